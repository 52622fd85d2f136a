#!/bin/sh
# Runs its arguments (a working proxy) after starting a child that leaves the
# container's process group and session (setsid) and is re-parented to init once its
# launcher has exited, as a daemonising helper does. It keeps only the container's
# environment; the runtime must still end it with the container.
setsid -f sleep 3600 </dev/null >/dev/null 2>&1
exec "$@"
