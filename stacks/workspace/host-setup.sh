# Sourced by bootstrap.sh (the user data) once the host has this project's files: the steps that set the host
# up, each idempotent. Kept out of the user data, which EC2 limits to 16 KB; it runs in bootstrap.sh's shell,
# with its values, helpers (log, step, apt_install, each_user ...) and its failure signal.
# shellcheck shell=bash
# shellcheck disable=SC2154 # the SIMLAB_* values and the readonly paths are bootstrap.sh's

SIMLAB_RSTUDIO_SHA256="${SIMLAB_RSTUDIO_SHA256:-}"
# What the boot rehearsal replaces with local stand-ins (docs/rehearsal.md); the defaults are production's.
SIMLAB_EFS_UTILS_REPO="${SIMLAB_EFS_UTILS_REPO:-https://github.com/aws/efs-utils.git}"
SIMLAB_HOME_SOURCE="${SIMLAB_HOME_SOURCE:-$SIMLAB_FILE_SYSTEM_ID:/}"
SIMLAB_HOME_FSTYPE="${SIMLAB_HOME_FSTYPE:-efs}"
# The file system policy refuses any connection without TLS; iam authenticates the mount as the host role.
SIMLAB_HOME_OPTIONS="${SIMLAB_HOME_OPTIONS:-_netdev,noresvport,tls,iam}"
SIMLAB_CRAN_URL="${SIMLAB_CRAN_URL:-https://cloud.r-project.org/bin/linux/ubuntu}"
# Michael Rutter's key, which signs CRAN's Ubuntu builds.
SIMLAB_CRAN_KEY_FINGERPRINT="${SIMLAB_CRAN_KEY_FINGERPRINT:-E298A3A825C0D65DFD57CBB651716619E084DAB9}"
SIMLAB_R_PACKAGES_URL="${SIMLAB_R_PACKAGES_URL:-https://packagemanager.posit.co/cran/__linux__}"

readonly ETC=/etc/simlab
# SIMLAB_USERS: `name:role:uid:secret-arn` per user, space-separated. UIDs are fixed by the stack, so files on
# the shared EFS home keep their owner across instance replacements. Each user's IAM role is
# SIMLAB_USER_ROLE_ARN with {user} replaced by the name.
readonly ADMIN_GROUP=simlab-admins
readonly HOME_ROOT="${SIMLAB_HOME_ROOT:-/home}" # overridable only for the tests

# Only root reaches the metadata service (and with it the host role's keys): users' processes, RStudio
# sessions and ssm-user are refused at once (ICMP port unreachable: "connection refused", not a wait). TCP only:
# the service speaks nothing else, and the refusal (ICMP, owned by no process) must not be refused in turn. The
# unit re-applies the rule at every boot, before the network is up; RStudio Server, the users' way in, requires
# it: if the rule cannot be set, RStudio does not start (closed, not open). The IPv6 endpoint is off (host.py).
install_imds_guard() {
  step imds-guard "instance metadata for root only"
  cat > /usr/local/sbin/simlab-imds-guard <<SCRIPT
#!/bin/bash
set -euo pipefail
rule=(OUTPUT -d $IMDS/32 -p tcp -m owner ! --uid-owner 0 -j REJECT)
iptables -w -C "\${rule[@]}" 2> /dev/null || iptables -w -I "\${rule[@]:0:1}" 1 "\${rule[@]:1}"
SCRIPT
  chmod 0755 /usr/local/sbin/simlab-imds-guard
  cat > /etc/systemd/system/simlab-imds-guard.service <<'UNIT'
[Unit]
Description=Instance metadata service for root only
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target rstudio-server.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/simlab-imds-guard

[Install]
WantedBy=multi-user.target
RequiredBy=rstudio-server.service
UNIT
  systemctl daemon-reload
  systemctl enable simlab-imds-guard.service
  systemctl restart simlab-imds-guard.service
}

# True when the pinned RStudio Server is installed. dpkg records Posit's 2024.12.1-563 as 2024.12.1+563.
rstudio_is_current() {
  local installed=""
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's format field, not a shell variable
  installed=$(dpkg-query -W -f='${Version}' rstudio-server 2>/dev/null || true)
  [ "$installed" = "$SIMLAB_RSTUDIO_VERSION" ] || [ "$installed" = "${SIMLAB_RSTUDIO_VERSION/-/+}" ]
}

readonly RSTUDIO_DEB="$SIMLAB_HOME/rstudio/rstudio-server.deb"
# Before anything slow, so that a package that fails the check fails the deploy at once: Posit's signature
# (verify-deb.sh: the pinned key, then every member's size and hashes), the package's name and version, and the
# SHA-256 too when one is pinned.
fetch_rstudio() {
  step rstudio-download "RStudio Server $SIMLAB_RSTUDIO_VERSION ($SIMLAB_ARCH) from $SIMLAB_RSTUDIO_DEB_URL"
  rstudio_is_current && return 0
  install -d -m 0700 "$SIMLAB_HOME/rstudio"
  curl -fsSL --retry 5 -o "$RSTUDIO_DEB.partial" "$SIMLAB_RSTUDIO_DEB_URL"
  curl -fsSL --retry 5 -o "$SIMLAB_HOME/rstudio/signing-key.asc" "$SIMLAB_RSTUDIO_KEY_URL"
  step rstudio-signature "checking Posit's signature (key $SIMLAB_RSTUDIO_KEY_FINGERPRINT)"
  "$SRC/stacks/workspace/verify-deb.sh" --fingerprint "$SIMLAB_RSTUDIO_KEY_FINGERPRINT" \
    --key "$SIMLAB_HOME/rstudio/signing-key.asc" "$RSTUDIO_DEB.partial"
  # Posit signs every package it builds with that key: older releases and its other products too. Only the pinned
  # release of RStudio Server will do (dpkg-deb reads the control member whose hashes were just checked).
  step rstudio-package "checking that the signed package is rstudio-server $SIMLAB_RSTUDIO_VERSION"
  local control
  # shellcheck disable=SC2016 # ${Package} and ${Version} are dpkg-deb's format fields
  control=$(dpkg-deb --show --showformat='${Package} ${Version}' "$RSTUDIO_DEB.partial")
  if [ "$control" != "rstudio-server $SIMLAB_RSTUDIO_VERSION" ] &&
    [ "$control" != "rstudio-server ${SIMLAB_RSTUDIO_VERSION/-/+}" ]; then
    log "the signed package is $control, not rstudio-server $SIMLAB_RSTUDIO_VERSION"
    return 1
  fi
  if [ -n "$SIMLAB_RSTUDIO_SHA256" ]; then
    step rstudio-sha256 "checking the pinned SHA-256"
    echo "$SIMLAB_RSTUDIO_SHA256  $RSTUDIO_DEB.partial" | sha256sum --check --strict -
  fi
  mv "$RSTUDIO_DEB.partial" "$RSTUDIO_DEB"
}

# amazon-efs-utils mounts EFS over TLS with IAM authorization (stunnel + the instance role); Ubuntu does not
# package it. v1.36.0 is the last release without a Rust component: built from its pinned commit, refused if the
# fetched tree is not that commit.
readonly EFS_UTILS_VERSION=1.36.0
readonly EFS_UTILS_COMMIT=c87d19f3e1db26532f09a7fed338347aacb90e10
install_efs_utils() {
  step efs-utils "amazon-efs-utils $EFS_UTILS_VERSION (TLS and IAM for the EFS mount)"
  local installed=""
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's format field, not a shell variable
  installed=$(dpkg-query -W -f='${Version}' amazon-efs-utils 2>/dev/null || true)
  [ "${installed%%-*}" = "$EFS_UTILS_VERSION" ] && return 0
  apt_install git binutils stunnel4 python3-botocore
  local src
  src=$(mktemp -d)
  git -C "$src" init -q
  git -C "$src" fetch -q --depth 1 "$SIMLAB_EFS_UTILS_REPO" "$EFS_UTILS_COMMIT"
  git -C "$src" checkout -q FETCH_HEAD
  [ "$(git -C "$src" rev-parse HEAD)" = "$EFS_UTILS_COMMIT" ]
  (cd "$src" && ./build-deb.sh > /dev/null)
  apt_install "$src"/build/amazon-efs-utils*.deb
  rm -rf "$src"
}

mount_home() {
  step home-mount "home directories on $SIMLAB_HOME_SOURCE ($SIMLAB_HOME_FSTYPE)"
  sed -i "s/^#\?region = .*/region = $SIMLAB_REGION/" /etc/amazon/efs/efs-utils.conf
  # One entry of ours after its marker line (fstab has no end-of-line comments), rewritten each run.
  sed -i -e '/^# simlab-home$/,+1d' /etc/fstab
  printf '# simlab-home\n%s /home %s %s 0 0\n' "$SIMLAB_HOME_SOURCE" "$SIMLAB_HOME_FSTYPE" "$SIMLAB_HOME_OPTIONS" \
    >> /etc/fstab
  if ! mountpoint -q /home; then
    # Mount targets can take a moment to answer DNS after the file system is created.
    local attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      mount /home && break
      log "mount /home failed (attempt $attempt), retrying"
      sleep 15
    done
    mountpoint -q /home
  fi
}

# Prints `name role uid secret-arn` per user of SIMLAB_USERS (the ARN keeps its own colons).
each_user() {
  local entry name role uid arn
  for entry in $SIMLAB_USERS; do
    IFS=: read -r name role uid arn <<< "$entry"
    printf '%s %s %s %s\n' "$name" "$role" "$uid" "$arn"
  done
}

# Admins get sudo (with their password) and Docker, which is root-equivalent; users get neither.
create_users() {
  step users "login users"
  getent group docker > /dev/null || groupadd --system docker
  getent group "$ADMIN_GROUP" > /dev/null || groupadd --system "$ADMIN_GROUP"
  printf '%%%s ALL=(ALL:ALL) ALL\n' "$ADMIN_GROUP" > "${SIMLAB_SUDOERS:-/etc/sudoers.d/simlab-admins}"
  chmod 0440 "${SIMLAB_SUDOERS:-/etc/sudoers.d/simlab-admins}"
  local name role uid _arn home
  while read -r name role uid _arn; do
    log "login user $name ($role, uid $uid)"
    home="$HOME_ROOT/$name"
    getent group "$name" > /dev/null || groupadd --gid "$uid" "$name"
    if ! id "$name" > /dev/null 2>&1; then
      # The home may already exist on EFS from an earlier instance: keep it, do not copy skeleton files over it.
      useradd --uid "$uid" --gid "$uid" --shell /bin/bash --home-dir "$home" --no-create-home "$name"
    fi
    if [ "$role" = admin ]; then
      usermod -aG "docker,$ADMIN_GROUP" "$name"
    else
      local group
      for group in docker "$ADMIN_GROUP" sudo admin; do
        gpasswd -d "$name" "$group" > /dev/null 2>&1 || true
      done
    fi
    if [ ! -d "$home" ]; then
      mkdir -p "$home"
      cp -rT /etc/skel "$home"
      chown -R "$name:$name" "$home"
    elif [ "$(stat -c %u "$home")" != "$uid" ]; then
      # The user's UID changed (e.g. the user list was reordered): give them back their files.
      chown -R "$name:$name" "$home"
    fi
    # Homes are private to their owner, and so is each user's AWS identity (the credential service).
    chmod 0750 "$home"
  done < <(each_user)
}

# Session Manager's agent creates ssm-user with passwordless sudo unless the user and its sudoers file exist
# (amazon-ssm-agent agent/session/utility/utility_unix.go: CreateLocalAdminUser): create both, without sudo.
# ssm-user is a system account (UID < 1000), so RStudio refuses it as well.
create_ssm_user() {
  step ssm-user "ssm-user without sudo"
  id ssm-user > /dev/null 2>&1 ||
    useradd --system --create-home --home-dir /var/lib/ssm-user --shell /bin/bash ssm-user
  printf '# ssm-user has no sudo on this host: Session Manager opens port forwarding only.\n' \
    > /etc/sudoers.d/ssm-agent-users
  chmod 0440 /etc/sudoers.d/ssm-agent-users
  local group
  for group in sudo admin docker "$ADMIN_GROUP"; do
    gpasswd -d ssm-user "$group" > /dev/null 2>&1 || true
  done
}

install_password_unit() {
  step passwords "boot-time password unit"
  install -d -m 0755 "$ETC"
  # Root-only: names and secret ARNs of the users.
  each_user > "$ETC/users"
  chmod 0600 "$ETC/users"
  # Runs on every boot, so a password changed in Secrets Manager takes effect at the next start.
  cat > /usr/local/sbin/simlab-set-password <<SCRIPT
#!/bin/bash
set -euo pipefail
while read -r name _role _uid arn; do
  password=\$("$VENV/bin/aws" secretsmanager get-secret-value --region "$SIMLAB_REGION" \\
    --secret-id "\$arn" --query SecretString --output text)
  printf '%s:%s\n' "\$name" "\$password" | chpasswd
done < "$ETC/users"
SCRIPT
  chmod 0700 /usr/local/sbin/simlab-set-password
  cat > /etc/systemd/system/simlab-set-password.service <<UNIT
[Unit]
Description=Set the RStudio login passwords from Secrets Manager
Wants=network-online.target
After=network-online.target
Before=rstudio-server.service

[Service]
Type=oneshot
${AWS_ENDPOINT_URL:+Environment=AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL}
ExecStart=/usr/local/sbin/simlab-set-password
Restart=on-failure
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable simlab-set-password.service
  systemctl start simlab-set-password.service
}

# Each Linux user gets their own role's keys from a root service that asks the kernel who is calling
# (credential_service.py); users' AWS configs name it as their credential_process.
install_credential_service() {
  step credentials "per-user AWS credentials"
  local name _role uid _arn
  while read -r name _role uid _arn; do
    printf '%s %s %s\n' "$name" "$uid" "${SIMLAB_USER_ROLE_ARN//\{user\}/$name}"
  done < <(each_user) > "$ETC/user-roles"
  chmod 0600 "$ETC/user-roles"
  install -d -m 0755 "$SIMLAB_HOME/bin"
  install -m 0755 "$SRC/stacks/workspace/credential_service.py" "$SIMLAB_HOME/bin/credential_service.py"
  cat > /usr/local/bin/simlab-credentials <<SCRIPT
#!/bin/sh
exec "$VENV/bin/python" -I "$SIMLAB_HOME/bin/credential_service.py" get
SCRIPT
  chmod 0755 /usr/local/bin/simlab-credentials
  cat > /etc/systemd/system/simlab-credentials.service <<UNIT
[Unit]
Description=Per-user AWS credentials for the RStudio users (SO_PEERCRED on a Unix socket)
After=network-online.target simlab-imds-guard.service
Wants=network-online.target

[Service]
ExecStart=$VENV/bin/python -I $SIMLAB_HOME/bin/credential_service.py serve
RuntimeDirectory=simlab-credentials
RuntimeDirectoryMode=0755
Environment=AWS_DEFAULT_REGION=$SIMLAB_REGION AWS_STS_REGIONAL_ENDPOINTS=regional
${AWS_ENDPOINT_URL:+Environment=AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable simlab-credentials.service
  systemctl restart simlab-credentials.service
}

# Runs a command as a login user (UID = GID, no other groups). Every write into a user's home goes through it:
# the home and everything in it, links included, is the user's (and survives on EFS into the next host), so root
# must never follow a path there. As the user, a planted link reaches only what the user may write anyway.
as_user() {
  local uid=$1
  shift
  setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@" < /dev/null
}

# Each user's ~/.aws/config names the credential service; one the user already has is left alone. A home the
# user made unwritable costs that user their config, not the host its boot.
write_aws_configs() {
  step aws-configs "AWS configs of the users"
  local name _role uid _arn config
  config=$(
    printf '[default]\nregion = %s\ncredential_process = /usr/local/bin/simlab-credentials\n' "$SIMLAB_REGION"
    [ -z "$SIMLAB_AWS_ENDPOINT_URL" ] || printf 'endpoint_url = %s\n' "$SIMLAB_AWS_ENDPOINT_URL"
  )
  # shellcheck disable=SC2016 # $1 and $2 belong to the user's shell
  local write='umask 077; [ -e "$1/.aws/config" ] || { mkdir -p "$1/.aws" && printf "%s\n" "$2" > "$1/.aws/config"; }'
  while read -r name _role uid _arn; do
    as_user "$uid" sh -c "$write" sh "$HOME_ROOT/$name" "$config" ||
      log "could not write $HOME_ROOT/$name/.aws/config as $name"
  done < <(each_user)
}

install_package() {
  step python-package "this project's Python package"
  "$VENV/bin/pip" install -q -c "$SIMLAB_HOME/constraints.txt" "${SRC}[client,fast]"
}

install_r() {
  step r "R from CRAN's Ubuntu repository"
  local codename keyring=/usr/share/keyrings/cran-ubuntu.gpg
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  if [ ! -s "$keyring" ]; then
    local key
    key=$(mktemp)
    curl -fsSL "$SIMLAB_CRAN_URL/marutter_pubkey.asc" -o "$key"
    # Trust the key only if it is the one CRAN documents. grep reads all of gpg's output (no -q): an
    # early exit could kill gpg with SIGPIPE, which pipefail turns into a failed bootstrap.
    gpg --show-keys --with-colons "$key" | grep "^fpr:::::::::$SIMLAB_CRAN_KEY_FINGERPRINT:" > /dev/null
    gpg --dearmor < "$key" > "$keyring"
    rm -f "$key"
  fi
  printf 'deb [signed-by=%s] %s %s-cran40/\n' "$keyring" "$SIMLAB_CRAN_URL" "$codename" \
    > /etc/apt/sources.list.d/cran.list
  apt_get update -q
  apt_install r-base r-base-dev
  # Binary R packages from Posit Package Manager for this Ubuntu release: installs take seconds, not minutes.
  cat > /etc/R/Rprofile.site <<EOF
local({
  options(repos = c(CRAN = "$SIMLAB_R_PACKAGES_URL/$codename/latest"))
  options(HTTPUserAgent = sprintf("R/%s R (%s)", getRversion(),
    paste(getRversion(), R.version\$platform, R.version\$arch, R.version\$os)))
})
EOF
  Rscript -e 'for (p in c("reticulate", "remotes", "jsonlite")) if (!requireNamespace(p, quietly = TRUE)) install.packages(p, lib = .Library.site[1])'
  if [ -f "$SRC/R/simjobs/DESCRIPTION" ]; then
    log "R wrapper simjobs"
    Rscript -e "remotes::install_local('$SRC/R/simjobs', lib = .Library.site[1], upgrade = 'never', force = TRUE)"
  fi
}

install_rstudio() {
  step rstudio "RStudio Server $SIMLAB_RSTUDIO_VERSION"
  if ! rstudio_is_current; then
    gdebi -n "$RSTUDIO_DEB"
  fi
  rm -f "$RSTUDIO_DEB"
  cat > /etc/rstudio/rserver.conf <<EOF
www-port=8787
www-address=$SIMLAB_LISTEN_ADDRESS
rsession-which-r=/usr/bin/R
auth-minimum-user-id=1000
auth-cookies-force-secure=$SIMLAB_SECURE_COOKIES
www-frame-origin=none
EOF
  systemctl enable rstudio-server
  systemctl restart rstudio-server
}

install_docker() {
  step docker "Docker engine"
  apt_install docker.io
  systemctl enable --now docker
}

configure_environment() {
  step environment "region, platform and job configuration for shells and R sessions"
  # {role}: the client fills in the caller's role, whose parameter holds that user's job role and prefixes.
  cat > /etc/profile.d/simlab.sh <<EOF
export AWS_DEFAULT_REGION=$SIMLAB_REGION
export AWS_REGION=$SIMLAB_REGION
export SIMLAB_PLATFORM=$SIMLAB_PLATFORM
export SIMLAB_JOB_CONFIG_PARAMETER='$SIMLAB_JOB_CONFIG_PARAMETER'
export RETICULATE_PYTHON=$VENV/bin/python
export PATH=$VENV/bin:\$PATH
EOF
  local renviron
  renviron=$(Rscript -e 'cat(R.home("etc"))')/Renviron.site
  touch "$renviron"
  sed -i '/^# simlab-begin$/,/^# simlab-end$/d' "$renviron"
  cat >> "$renviron" <<EOF
# simlab-begin
AWS_DEFAULT_REGION=$SIMLAB_REGION
AWS_REGION=$SIMLAB_REGION
SIMLAB_PLATFORM=$SIMLAB_PLATFORM
SIMLAB_JOB_CONFIG_PARAMETER='$SIMLAB_JOB_CONFIG_PARAMETER'
RETICULATE_PYTHON=$VENV/bin/python
PATH=$VENV/bin:\${PATH}
# simlab-end
EOF
}

install_welcome() {
  step welcome "welcome example"
  local name _role uid _arn home
  while read -r name _role uid _arn; do
    home="$HOME_ROOT/$name"
    # Never overwrite what the user has edited: copies only what is missing, as the user.
    # shellcheck disable=SC2016 # $1 and $2 belong to the user's shell
    if [ -f "$SRC/stacks/workspace/welcome.R" ]; then
      as_user "$uid" sh -c '[ -e "$1" ] || [ -L "$1" ] || { cp "$2" "$1" && chmod 0644 "$1"; }' \
        sh "$home/welcome.R" "$SRC/stacks/workspace/welcome.R" || log "could not copy welcome.R for $name"
    fi
    # shellcheck disable=SC2016
    if [ -d "$SRC/R/examples" ]; then
      as_user "$uid" sh -c '[ -e "$1" ] || [ -L "$1" ] || cp -r "$2" "$1"' sh "$home/examples" "$SRC/R/examples" ||
        log "could not copy the examples for $name"
    fi
  done < <(each_user)
}

setup_host() {
  install_imds_guard
  fetch_rstudio
  install_efs_utils
  mount_home
  create_users
  create_ssm_user
  install_password_unit
  install_credential_service
  write_aws_configs
  install_package
  install_r
  install_docker
  configure_environment
  install_rstudio
  install_welcome
}
