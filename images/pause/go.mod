module sidecar-bench/pause

go 1.22
