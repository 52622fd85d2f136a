// parseAddresses on `ip -o address show` output of a cluster node (this project's: the pod
// bridge sbk8s0, Docker's bridge, a veth without an IPv4 address).
import { describe, expect, it } from "vitest";
import { isLocalAddress, parseAddresses } from "./node-agent.ts";

const IP_OUTPUT = String.raw`1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
4: eth0    inet6 fd00::2/64 scope global nodad \       valid_lft forever preferred_lft forever
4: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \       valid_lft forever preferred_lft forever
5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\       valid_lft forever preferred_lft forever
5: docker0    inet6 fe80::42:20ff:fecc:ab4f/64 scope link \       valid_lft forever preferred_lft forever
82: sbk8s0    inet 10.247.0.1/24 scope global sbk8s0\       valid_lft forever preferred_lft forever
82: sbk8s0    inet6 fe80::348f:75ff:fe47:6c5d/64 scope link \       valid_lft forever preferred_lft forever
368: veth9a45a8c4    inet6 fe80::2098:10ff:fe65:e5da/64 scope link \       valid_lft forever preferred_lft forever
`;

describe("parseAddresses", () => {
  it("every interface's IPv4 and IPv6 address, without prefix lengths or broadcast addresses", () => {
    expect([...parseAddresses(IP_OUTPUT)].sort()).toEqual(
      ["127.0.0.1", "::1", "192.0.2.2", "fd00::2", "fe80::fc:ff:fe00:1", "172.17.0.1", "fe80::42:20ff:fecc:ab4f", "10.247.0.1", "fe80::348f:75ff:fe47:6c5d", "fe80::2098:10ff:fe65:e5da"].sort(),
    );
    expect(parseAddresses(IP_OUTPUT).has("172.17.255.255")).toBe(false);
  });

  it("nothing from empty or unrelated output", () => {
    expect(parseAddresses("").size).toBe(0);
    expect(parseAddresses("Device \"x\" does not exist.\n").size).toBe(0);
  });
});

describe("isLocalAddress", () => {
  it("knows this machine's loopback, and not an address from a documentation range", () => {
    expect(isLocalAddress("127.0.0.1")).toBe(true);
    expect(isLocalAddress("203.0.113.77")).toBe(false);
  });
});
