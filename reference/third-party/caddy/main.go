// Caddy, built from its Go module with the standard modules only (what the official
// binary ships), so the proxy certified here is upstream's, at the version go.mod pins.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
