module sidecar-bench/aux-proxy

// 1.22 rather than the installed release: any Go from 1.22 on builds this offline
// (no toolchain download), and the code needs nothing newer (ServeMux method patterns,
// range-over-int, ReverseProxy.Rewrite).
go 1.22
