# Shared by bin/auditrelay and bin/auditrelay-event-handler (sourced, not run).
# launch DIR NAME SCRIPT ARGS…: exec SCRIPT on the pinned Node 24
# (with $node_flags, if the caller set them, before SCRIPT)
# (node_modules/node); without it, a Node 24 on PATH; before `npm ci`, one line
# saying so and exit 127 (the shell's "command not found").
launch() {
  root=$(cd "$1/.." && pwd)
  name="$2"
  script="$3"
  shift 3
  if [ ! -d "$root/node_modules" ]; then
    echo "$name: node_modules is missing in $root — run \`npm ci\` there first" >&2
    exit 127
  fi
  pinned="$root/node_modules/node/bin/node"
  if [ -x "$pinned" ]; then
    exec "$pinned" $node_flags "$root/$script" "$@"
  fi
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
  if [ -n "$major" ] && [ "$major" -ge 24 ] 2>/dev/null; then
    exec node $node_flags "$root/$script" "$@"
  fi
  echo "$name: the pinned Node 24 ($pinned) is missing and no Node >= 24 is on PATH${major:+ (found Node $major)} — run \`npm ci\` in $root first" >&2
  exit 127
}

# node_env DIR: export the variables of DIR/node-env that are not set yet (`@root@` is the
# install directory): malloc settings and Node's compile cache, for every launcher.
node_env() {
  env_root=$(cd "$1/.." && pwd)
  while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    name=${line%%=*}
    printenv "$name" >/dev/null || export "$name=$(printf '%s' "${line#*=}" | sed "s|@root@|$env_root|g")"
  done < "$1/node-env"
}
