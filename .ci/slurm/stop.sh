#!/usr/bin/env bash
# Stop the daemons .ci/slurm/setup.sh started, by their PID files only (no pkill), and remove the
# /etc/slurm/slurm.conf symlink it made.
PREFIX=${PREFIX:-/tmp/ncrepro-slurm}
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
for d in slurmd slurmctld munged; do
  f="$PREFIX/run/$d.pid"
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if $SUDO kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 40); do $SUDO kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    echo "slurm stop: stopped $d ($pid)"
  fi
  rm -f "$f"
done
[ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$PREFIX/etc/slurm.conf" ] && $SUDO rm -f /etc/slurm/slurm.conf
exit 0
