#!/bin/sh
# Runs its arguments (a working proxy) with two log floods beside it in the same
# container: stderr gets the same line forever, stdout one endless line without a
# newline. Neither touches the proxy's traffic: what is tested is whether the runtime
# keeps its disk and memory bounded while the proxy keeps serving.
yes "log-flood: pid $$ writes this line to stderr as fast as the pipe takes it" >&2 &
tr '\000' '#' </dev/zero &
exec "$@"
