# Sourced by the hop's scripts (entrypoint.sh, dns.sh, dns-publish.sh): one logger, one JSON object per line on
# stderr. LOG_COMPONENT names the writer (default torchain-hop).

json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '%s' "$s"
}

# log LEVEL MESSAGE [KEY VALUE]... : one JSON object per line on stderr.
log() {
  local level=$1 msg=$2 ts line
  shift 2
  TZ=UTC printf -v ts '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  line="{\"time\":\"$ts\",\"level\":\"$level\",\"component\":\"${LOG_COMPONENT:-torchain-hop}\",\"msg\":\"$(json_escape "$msg")\""
  while (($# >= 2)); do
    line+=",\"$1\":\"$(json_escape "$2")\""
    shift 2
  done
  printf '%s}\n' "$line" >&2
}
