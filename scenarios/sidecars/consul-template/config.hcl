# consul-template (scenarios/sidecars/consul-template.yaml): renders the primary's API key
# from the pod's Vault-compatible KV v2 store into the secrets volume, and keeps it
# current. The token comes from the environment (VAULT_TOKEN), never from this file.

# No kill_signal here: consul-template's default (SIGINT) is what
# consul-template-defaults.yaml certifies; consul-template.yaml adds kill-signal.hcl.

log_level = "info"

vault {
  address = "http://{{ host }}:{{ port 'backend.vault' }}"

  # A static token with no lease to renew; renewing it would only add calls to the store.
  renew_token = false

  # KV v2 secrets carry no lease, so consul-template re-reads them after
  # default_lease_duration times lease_renewal_threshold (0.9 by default, with a
  # ±5 % stagger): about every 1.8 s here, so a rotation in the store reaches the file
  # within a few seconds. The default lease is 5 minutes.
  default_lease_duration = "2s"

  # While the store is unreachable: retry without limit (attempts = 0), backing off up
  # to 2 s, and keep the last rendered file as it is (consul-template never removes a
  # rendered file) — the declared whenStoreDown: keep. consul-template's default gives
  # up after 12 attempts (about 8 minutes at its 1-minute backoff cap) and exits.
  retry {
    enabled     = true
    attempts    = 0
    backoff     = "250ms"
    max_backoff = "2s"
  }
}

template {
  # [[ ]] instead of consul-template's {{ }}: the harness renders {{ }} in this file
  # first (ports, host, volumes).
  left_delimiter  = "[["
  right_delimiter = "]]"
  contents        = "[[ with secret \"secret/data/sidecar-bench/primary\" ]][[ .Data.data.api_key ]][[ end ]]"
  destination     = "{{ volume 'secrets' }}/api-key"
  # Owner read-only; consul-template writes a temporary file and renames it over the
  # destination, so a reader never sees a partial key.
  perms           = 0400
  # A secret without the api_key field is an error (consul-template stops) rather than
  # the text "<no value>" written as the key.
  error_on_missing_key = true
}
