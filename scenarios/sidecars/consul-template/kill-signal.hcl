# consul-template's default kill_signal is SIGINT: on SIGTERM, which every runtime (and
# kubelet) sends to stop a container, it logs the signal and keeps running (it would
# forward it to a child process, and there is none), so the pod's grace period ends in
# SIGKILL. Listening for SIGTERM is consul-template's own documented setting for that;
# a second -config file merges over config.hcl.
kill_signal = "SIGTERM"
