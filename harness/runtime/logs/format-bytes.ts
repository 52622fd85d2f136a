// Byte counts for people: "812.3 MiB", "5 MiB", "640 KiB", "12 bytes".
export function formatBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"] as const;
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
