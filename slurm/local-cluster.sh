#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests and for trying the sbatch scripts.
#
#   slurm/local-cluster.sh up       install slurm-wlm and munge if missing, start munged, slurmctld
#                                   and slurmd, wait until the node is idle (safe to run twice)
#   slurm/local-cluster.sh down     cancel its jobs and stop exactly the daemons `up` started
#   slurm/local-cluster.sh status   what runs, and sinfo
#
# Runs as root (slurmd must; SlurmUser=root). Everything it writes — slurm.conf, state, spool,
# logs, pid files — is under $LOCALSCALE_SLURM_DIR (default /tmp/localscale-slurm); clients find
# the configuration through /etc/slurm/slurm.conf, a link made only when that file does not exist
# (else: export SLURM_CONF=$LOCALSCALE_SLURM_DIR/slurm.conf). Partition "local", MpiDefault=pmix
# (Open MPI under srun needs PMIx).
set -euo pipefail

dir=${LOCALSCALE_SLURM_DIR:-/tmp/localscale-slurm}
conf=$dir/slurm.conf
etc_conf=/etc/slurm/slurm.conf
export SLURM_CONF=$conf

say() { echo "local-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

# alive NAME: the daemon NAME whose pid is in $dir/NAME.pid runs (and is that program, not a
# process that reused the pid).
alive() {
    local pid
    pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}

install_packages() {
    local missing=()
    for p in slurmctld slurmd slurm-client munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    say "installing ${missing[*]}"
    # No daemon is started by the packages' scripts (policy-rc.d 101): this script starts them.
    local policy=/usr/sbin/policy-rc.d made_policy=""
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$made_policy" ] || rm -f "$policy"
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi   # someone runs munged
    [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    runuser -u munge -- munged --force
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$dir/munged.pid"
    alive munged || die "munged did not start (see /var/log/munge/munged.log)"
}

write_conf() {
    local node host
    node=$(slurmd -C | head -n 1)          # NodeName=HOST CPUs=… Boards=… … RealMemory=…
    host=${node#NodeName=}; host=${host%% *}
    cat >"$conf.new" <<EOF
# Written by slurm/local-cluster.sh: a one-node cluster on localhost.
ClusterName=localscale
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_min_interval=100000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPort=6817
SlurmdPort=6818
MinJobAge=300
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$conf.new" "$conf"
}

node_state() { sinfo -h -N -o %T 2>/dev/null | head -n 1; }

up() {
    [ "$(id -u)" -eq 0 ] || die "run as root (slurmd needs it): sudo $0 up"
    install_packages
    mkdir -p "$dir/log" "$dir/state" "$dir/spool"
    start_munge
    if ! alive slurmctld || ! alive slurmd; then
        write_conf
        [ -e "$etc_conf" ] || { mkdir -p /etc/slurm; ln -s "$conf" "$etc_conf"; }
    fi
    alive slurmctld || slurmctld -i
    alive slurmd || slurmd
    local state=""
    for _ in $(seq 150); do
        state=$(node_state)
        case "$state" in idle|mixed|allocated) break ;; esac
        sleep 0.2
    done
    case "$state" in
        idle|mixed|allocated) say "up: node $(sinfo -h -N -o %N | head -n 1) $state, $(sinfo -h -N -o %c | head -n 1) CPUs" \
                                  "(conf $conf, logs $dir/log)" ;;
        *) die "node is '${state:-unreachable}' after 30 s (see $dir/log)" ;;
    esac
}

# stop NAME: TERM the daemon we started, wait until it is gone (KILL after 10 s).
stop() {
    alive "$1" || { rm -f "$dir/$1.pid"; return 0; }
    local pid
    pid=$(cat "$dir/$1.pid")
    kill -TERM "$pid"
    for _ in $(seq 100); do alive "$1" || break; sleep 0.1; done
    if alive "$1"; then kill -KILL "$pid"; fi
    rm -f "$dir/$1.pid"
    say "stopped $1 ($pid)"
}

down() {
    if alive slurmctld; then
        scancel --partition=local 2>/dev/null || true
        for _ in $(seq 50); do [ -z "$(squeue -h -p local -o %i 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    stop slurmd
    stop slurmctld
    stop munged
    if [ "$(readlink "$etc_conf" 2>/dev/null)" = "$conf" ]; then rm -f "$etc_conf"; fi
}

status() {
    for d in munged slurmctld slurmd; do
        if alive "$d"; then echo "$d: running ($(cat "$dir/$d.pid"))"; else echo "$d: not started here"; fi
    done
    if alive slurmctld; then sinfo; fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
