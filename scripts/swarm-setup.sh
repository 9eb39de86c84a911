#!/usr/bin/env bash
# Bring up a one-node Docker Swarm for the lab tests (tests/lab), the same way in CI and on a
# developer's machine. Idempotent: each step checks first and says what it did. Everything it
# creates is recorded in "$GHOSTGATES_LAB_STATE/created" so scripts/swarm-teardown.sh removes
# only that.
#
# Environment (all optional):
#   GHOSTGATES_LAB_STATE   where the record of what was created lives  (/var/lib/ghostgates-lab)
#   GHOSTGATES_DOCKERD_LOG the log file of a dockerd this script starts (/var/log/ghostgates-dockerd.log)
#   GHOSTGATES_LAB_IMAGE   the tiny image built from Debian's static busybox (ghostgates/busybox:lab)
#   GHOSTGATES_ADDR_POOL   the swarm's default address pool, if it must differ from the pick below
#   GHOSTGATES_SOCKET      the engine socket (/var/run/docker.sock)
#   GHOSTGATES_SSH_PORT    the loopback port of the lab's sshd, for DOCKER_HOST=ssh:// (2222)
#
# The sshd (Debian's openssh-server) listens on 127.0.0.1 only, takes keys only from
# "$GHOSTGATES_LAB_STATE/ssh/authorized_keys" (a test writes the key it made there), and is named
# by the ssh client config /etc/ssh/ssh_config.d/ghostgates-lab.conf as host `ghostgates-lab`
# (port, user, the lab's known_hosts), so `ssh ghostgates-lab` and DOCKER_HOST=ssh://ghostgates-lab
# work as they would against a real manager.
set -euo pipefail

STATE_DIR=${GHOSTGATES_LAB_STATE:-/var/lib/ghostgates-lab}
DOCKERD_LOG=${GHOSTGATES_DOCKERD_LOG:-/var/log/ghostgates-dockerd.log}
IMAGE=${GHOSTGATES_LAB_IMAGE:-ghostgates/busybox:lab}
SOCKET=${GHOSTGATES_SOCKET:-/var/run/docker.sock}
RECORD="$STATE_DIR/created"
SSH_PORT=${GHOSTGATES_SSH_PORT:-2222}
SSH_DIR="$STATE_DIR/ssh"
SSH_CLIENT_CONF=/etc/ssh/ssh_config.d/ghostgates-lab.conf
# Candidate default address pools for the swarm's overlay networks, in order of preference; the
# first that overlaps no route or address of this host is used (docker's own default 10.0.0.0/8
# is too wide to be sure of).
POOL_CANDIDATES=${GHOSTGATES_ADDR_POOL:-"10.213.0.0/16 10.214.0.0/16 172.29.0.0/16 192.168.213.0/24"}
POOL_SUBNET_SIZE=${GHOSTGATES_ADDR_POOL_SIZE:-26}

export DEBIAN_FRONTEND=noninteractive
mkdir -p "$STATE_DIR"
touch "$RECORD"

say() { printf '[swarm-setup] %s\n' "$*"; }
record() { grep -qxF "$1" "$RECORD" || echo "$1" >>"$RECORD"; }
now_ms() { date +%s%3N; }
TOTAL_START=$(now_ms)
step() { # step NAME FUNCTION: run and time one step
    local name=$1 start end
    shift
    start=$(now_ms)
    "$@"
    end=$(now_ms)
    say "step '$name' took $(((end - start) / 1000)).$(printf '%03d' $(((end - start) % 1000)))s"
}

docker_cli() { docker -H "unix://$SOCKET" "$@"; }
engine_answers() { docker_cli version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install_engine() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v docker >/dev/null 2>&1 || missing+=(docker.io)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    if ! { [ -x /bin/busybox ] && file_is_static /bin/busybox; }; then missing+=(busybox-static); fi
    if [ ${#missing[@]} -eq 0 ]; then
        say "dockerd and a static busybox are installed: nothing to install"
        return
    fi
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    say "installing with apt: ${missing[*]}"
    apt-get update -qq
    # policy-rc.d 101: the packages' own init scripts start nothing (sshd on port 22, a second
    # dockerd); this script starts what the lab needs, where it can record it.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f "$policy"
    for p in "${missing[@]}"; do record "package $p"; done
    # Where no policy-rc.d stops it, the package's own init script may have started dockerd: that
    # engine is this setup's doing too, so the teardown stops it.
    if printf '%s\n' "${missing[@]}" | grep -qx docker.io && [ -s /var/run/docker.pid ] \
        && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        say "the docker.io package started dockerd (pid $(cat /var/run/docker.pid)): recorded for the teardown"
        record "dockerd-started $(cat /var/run/docker.pid)"
    fi
}

file_is_static() { ! ldd "$1" >/dev/null 2>&1; }

start_engine() {
    if engine_answers; then
        say "an engine already answers at $SOCKET: not starting one"
        return
    fi
    if pgrep -x dockerd >/dev/null 2>&1; then
        say "dockerd runs but does not answer at $SOCKET yet: waiting for it"
    elif [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && systemctl list-unit-files docker.service >/dev/null 2>&1; then
        say "starting dockerd with systemd (docker.service)"
        systemctl start docker
        record "systemd-started docker"
    else
        say "no systemd here: starting dockerd in the background, log in $DOCKERD_LOG"
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        # containerd comes with docker.io as its own binary; dockerd starts a managed one itself.
        nohup dockerd --host "unix://$SOCKET" --log-level info >>"$DOCKERD_LOG" 2>&1 &
        local pid=$!
        echo "$pid" >"$STATE_DIR/dockerd.pid"
        record "dockerd-started $pid"
        record "dockerd-log $DOCKERD_LOG"
    fi
    local deadline=$((SECONDS + 60))
    until engine_answers; do
        if [ $SECONDS -ge $deadline ]; then
            say "the engine did not answer at $SOCKET within 60s; last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
    say "engine $(docker_cli version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') answers at $SOCKET"
}

overlaps_host() { # overlaps_host CIDR: does it overlap any route or address on this host?
    python3 - "$1" <<'EOF'
import ipaddress, subprocess, sys
cand = ipaddress.ip_network(sys.argv[1])
nets = []
for cmd in (["ip", "-4", "-o", "addr"], ["ip", "-4", "route"]):
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    for word in out.split():
        try:
            nets.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            pass
sys.exit(0 if any(n.version == 4 and n.overlaps(cand) and n.prefixlen > 0 for n in nets) else 1)
EOF
}

init_swarm() {
    local state
    state=$(docker_cli info --format '{{.Swarm.LocalNodeState}}')
    if [ "$state" = active ]; then
        say "the swarm is already active: not initialising ($(docker_cli info --format '{{.Swarm.NodeID}}'))"
        return
    fi
    local pool=""
    for c in $POOL_CANDIDATES; do
        if overlaps_host "$c"; then
            say "address pool $c overlaps a route or address of this host: skipping it"
        else
            pool=$c
            break
        fi
    done
    [ -n "$pool" ] || { say "no candidate address pool is free of this host's routes"; exit 1; }
    say "docker swarm init on 127.0.0.1 with default address pool $pool (/$POOL_SUBNET_SIZE subnets)"
    docker_cli swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 \
        --default-addr-pool "$pool" --default-addr-pool-mask-length "$POOL_SUBNET_SIZE" >/dev/null
    record "swarm-init"
    local deadline=$((SECONDS + 30))
    until [ "$(docker_cli info --format '{{.Swarm.LocalNodeState}}/{{.Swarm.ControlAvailable}}')" = active/true ]; do
        [ $SECONDS -lt $deadline ] || { say "the swarm did not become active within 30s"; exit 1; }
        sleep 0.5
    done
}

build_image() {
    if docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
        say "image $IMAGE exists: not rebuilding"
        return
    fi
    local root tarball
    root=$(mktemp -d)
    tarball=$(mktemp --suffix .tar)
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in sh sleep wget touch test cat ls echo true false rm mkdir ps hostname \
        env date nc ip ifconfig id head tail grep kill; do
        ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    tar -C "$root" -cf "$tarball" .
    docker_cli import --change 'CMD ["sh"]' --change 'ENV PATH=/bin' \
        --message "ghost-gates lab image: Debian busybox-static" "$tarball" "$IMAGE" >/dev/null
    rm -rf "$root" "$tarball"
    record "image $IMAGE"
    say "built $IMAGE by docker import ($(docker_cli image inspect "$IMAGE" --format '{{.Size}}') bytes)"
}

start_sshd() {
    mkdir -p "$SSH_DIR"
    chmod 700 "$SSH_DIR"
    touch "$SSH_DIR/authorized_keys"
    chmod 600 "$SSH_DIR/authorized_keys"
    [ -f "$SSH_DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ghostgates-lab-host -f "$SSH_DIR/host_ed25519"
    # The client side: host alias, port and the lab's own known_hosts (never the user's).
    printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1-2 "$SSH_DIR/host_ed25519.pub")" >"$SSH_DIR/known_hosts"
    if [ ! -f "$SSH_CLIENT_CONF" ]; then
        mkdir -p "$(dirname "$SSH_CLIENT_CONF")"
        cat >"$SSH_CLIENT_CONF" <<CONF
# written by ghost-gates scripts/swarm-setup.sh; removed by swarm-teardown.sh
Host ghostgates-lab
    HostName 127.0.0.1
    Port $SSH_PORT
    User root
    UserKnownHostsFile $SSH_DIR/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
CONF
        record "ssh-client-conf $SSH_CLIENT_CONF"
    fi
    if [ -s "$SSH_DIR/sshd.pid" ] && kill -0 "$(cat "$SSH_DIR/sshd.pid")" 2>/dev/null; then
        say "the lab sshd already runs (pid $(cat "$SSH_DIR/sshd.pid")) on 127.0.0.1:$SSH_PORT"
        return
    fi
    mkdir -p /run/sshd
    cat >"$SSH_DIR/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_DIR/host_ed25519
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
X11Forwarding no
# docker-py and the docker CLI run \`docker system dial-stdio\` on the far side
SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CONF
    /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log"
    local deadline=$((SECONDS + 10))
    until [ -s "$SSH_DIR/sshd.pid" ]; do
        [ $SECONDS -lt $deadline ] || { say "sshd did not start; see $SSH_DIR/sshd.log"; tail -n 20 "$SSH_DIR/sshd.log" >&2; exit 1; }
        sleep 0.2
    done
    record "sshd-started $(cat "$SSH_DIR/sshd.pid")"
    say "sshd (pid $(cat "$SSH_DIR/sshd.pid")) listens on 127.0.0.1:$SSH_PORT; keys from $SSH_DIR/authorized_keys"
}

step "install engine and busybox" install_engine
step "start engine" start_engine
step "swarm init" init_swarm
step "build lab image" build_image
step "start sshd on the loopback" start_sshd
END=$(now_ms)
say "ready in $(((END - TOTAL_START) / 1000)).$(printf '%03d' $(((END - TOTAL_START) % 1000)))s: DOCKER_HOST=unix://$SOCKET, image $IMAGE, record $RECORD"
say "created by this and earlier runs: $(tr '\n' ';' <"$RECORD")"
