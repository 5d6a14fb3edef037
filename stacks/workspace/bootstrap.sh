#!/bin/bash
# Bootstrap of the RStudio Server host (Ubuntu LTS). Runs as EC2 user data; the CDK stack prepends the
# deployment's values (the SIMLAB_* variables checked below) and nothing secret: the login password is read
# from Secrets Manager through the instance role by a boot-time unit, never written here or logged.
#
# Idempotent: every step checks or overwrites its own result, so a re-run (or cloud-init on a reboot) is
# harmless. Any failure signals FAILURE to CloudFormation, which rolls the deployment back.
set -euo pipefail

: "${SIMLAB_REGION:?}" "${SIMLAB_PLATFORM:?}" "${SIMLAB_JOB_CONFIG_PARAMETER:?}" "${SIMLAB_USERS:?}"
: "${SIMLAB_FILE_SYSTEM_ID:?}" "${SIMLAB_PACKAGE_S3_URL:?}" "${SIMLAB_STACK_NAME:?}"
: "${SIMLAB_LOGICAL_ID:?}" "${SIMLAB_RSTUDIO_VERSION:?}" "${SIMLAB_ARCH:?}" "${SIMLAB_LISTEN_ADDRESS:?}"
: "${SIMLAB_SECURE_COOKIES:?}" "${SIMLAB_PIP_CONSTRAINTS:?}"
SIMLAB_RSTUDIO_SHA256="${SIMLAB_RSTUDIO_SHA256:-}"

readonly SIMLAB_HOME=/opt/simlab
readonly VENV="$SIMLAB_HOME/venv"
readonly SRC="$SIMLAB_HOME/src"
# SIMLAB_USERS: `name:role:uid:secret-arn` per user, space-separated. UIDs are fixed by the stack, so files on
# the shared EFS home keep their owner across instance replacements.
readonly ADMIN_GROUP=simlab-admins
readonly HOME_ROOT="${SIMLAB_HOME_ROOT:-/home}"   # overridable only for the tests
readonly CRAN_KEY_FINGERPRINT=E298A3A825C0D65DFD57CBB651716619E084DAB9   # Michael Rutter, CRAN Ubuntu builds
export DEBIAN_FRONTEND=noninteractive
# cloud-init runs user data without HOME; gpg, pip and R want one.
export HOME=/root
export AWS_DEFAULT_REGION="$SIMLAB_REGION"

log() { printf '%s simlab-bootstrap: %s\n' "$(date -u +%FT%TZ)" "$*"; }

instance_id() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id
}

# Tell CloudFormation how the bootstrap ended; the stack's CreationPolicy waits for exactly one signal.
signal() {
  local status=$1
  if [ -x "$VENV/bin/aws" ]; then
    "$VENV/bin/aws" cloudformation signal-resource --stack-name "$SIMLAB_STACK_NAME" \
      --logical-resource-id "$SIMLAB_LOGICAL_ID" --unique-id "$(instance_id)" --status "$status" ||
      log "could not signal $status to CloudFormation"
  else
    log "no AWS CLI yet, cannot signal $status; the CreationPolicy timeout will fail the deployment"
  fi
}

on_exit() {
  local code=$?
  if [ "$code" -ne 0 ]; then
    log "FAILED with exit code $code (see /var/log/simlab-bootstrap.log)"
    signal FAILURE
  fi
}

# On first boot Ubuntu's own apt-daily and unattended-upgrades hold the dpkg lock for a while: wait for it.
apt_get() {
  apt-get -o DPkg::Lock::Timeout=900 "$@"
}

apt_install() {
  apt_get install -y -q --no-install-recommends "$@"
}

install_base() {
  log "base packages"
  apt_get update -q
  apt_install ca-certificates curl gnupg unzip nfs-common python3-venv python3-dev build-essential \
    gdebi-core libcurl4-openssl-dev libssl-dev libxml2-dev
}

install_python() {
  log "python venv with the AWS CLI, boto3 and the sagemaker SDK"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  # The versions this repository tests (requirements-host.txt), one `name==version` per line.
  mkdir -p "$SIMLAB_HOME"
  tr ' ' '\n' <<< "$SIMLAB_PIP_CONSTRAINTS" > "$SIMLAB_HOME/constraints.txt"
  "$VENV/bin/pip" install -q --upgrade pip
  # sagemaker 2.x keeps the ScriptProcessor API of the original workflow.
  "$VENV/bin/pip" install -q -c "$SIMLAB_HOME/constraints.txt" awscli boto3 sagemaker
}

install_package() {
  log "this project's simulation package and R wrapper from $SIMLAB_PACKAGE_S3_URL"
  local zip
  zip=$(mktemp --suffix=.zip)
  "$VENV/bin/aws" s3 cp --only-show-errors "$SIMLAB_PACKAGE_S3_URL" "$zip"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  unzip -q -o "$zip" -d "$SRC"
  rm -f "$zip"
  "$VENV/bin/pip" install -q -c "$SIMLAB_HOME/constraints.txt" "${SRC}[client,fast]"
}

# amazon-efs-utils mounts EFS over TLS with IAM authorization (stunnel + the instance role); Ubuntu does not
# package it. v1.36.0 is the last release without a Rust component: built from its pinned commit, refused if the
# fetched tree is not that commit.
readonly EFS_UTILS_VERSION=1.36.0
readonly EFS_UTILS_COMMIT=c87d19f3e1db26532f09a7fed338347aacb90e10
install_efs_utils() {
  local installed=""
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's format field, not a shell variable
  installed=$(dpkg-query -W -f='${Version}' amazon-efs-utils 2>/dev/null || true)
  [ "${installed%%-*}" = "$EFS_UTILS_VERSION" ] && return 0
  log "amazon-efs-utils $EFS_UTILS_VERSION (TLS and IAM for the EFS mount)"
  apt_install git binutils stunnel4 python3-botocore
  local src
  src=$(mktemp -d)
  git -C "$src" init -q
  git -C "$src" fetch -q --depth 1 https://github.com/aws/efs-utils.git "$EFS_UTILS_COMMIT"
  git -C "$src" checkout -q FETCH_HEAD
  [ "$(git -C "$src" rev-parse HEAD)" = "$EFS_UTILS_COMMIT" ]
  (cd "$src" && ./build-deb.sh > /dev/null)
  apt_install "$src"/build/amazon-efs-utils*.deb
  rm -rf "$src"
}

mount_home() {
  log "EFS home directories (TLS, IAM)"
  # The file system policy refuses any connection without TLS; iam authenticates the mount as the host role.
  local opts=_netdev,noresvport,tls,iam
  sed -i "s/^#\?region = .*/region = $SIMLAB_REGION/" /etc/amazon/efs/efs-utils.conf
  sed -i '\# /home nfs4 #d' /etc/fstab
  if ! grep -q " /home efs " /etc/fstab; then
    printf '%s:/ /home efs %s 0 0\n' "$SIMLAB_FILE_SYSTEM_ID" "$opts" >> /etc/fstab
  fi
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
    # Homes are private to their owner (all users still share the host's IAM role: see the README).
    chmod 0750 "$home"
  done < <(each_user)
}

install_password_unit() {
  log "boot-time password unit"
  # Runs on every boot, so a password changed in Secrets Manager takes effect at the next start.
  cat > /usr/local/sbin/simlab-set-password <<SCRIPT
#!/bin/bash
set -euo pipefail
while read -r name _role _uid arn; do
  password=\$("$VENV/bin/aws" secretsmanager get-secret-value --region "$SIMLAB_REGION" \\
    --secret-id "\$arn" --query SecretString --output text)
  printf '%s:%s\n' "\$name" "\$password" | chpasswd
done <<'USERS'
$(each_user)
USERS
SCRIPT
  chmod 0700 /usr/local/sbin/simlab-set-password
  cat > /etc/systemd/system/simlab-set-password.service <<'UNIT'
[Unit]
Description=Set the RStudio login passwords from Secrets Manager
Wants=network-online.target
After=network-online.target
Before=rstudio-server.service

[Service]
Type=oneshot
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

install_r() {
  log "R from CRAN's Ubuntu repository"
  local codename keyring=/usr/share/keyrings/cran-ubuntu.gpg
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  if [ ! -s "$keyring" ]; then
    local key
    key=$(mktemp)
    curl -fsSL https://cloud.r-project.org/bin/linux/ubuntu/marutter_pubkey.asc -o "$key"
    # Trust the key only if it is the one CRAN documents. grep reads all of gpg's output (no -q): an
    # early exit could kill gpg with SIGPIPE, which pipefail turns into a failed bootstrap.
    gpg --show-keys --with-colons "$key" | grep "^fpr:::::::::$CRAN_KEY_FINGERPRINT:" > /dev/null
    gpg --dearmor < "$key" > "$keyring"
    rm -f "$key"
  fi
  printf 'deb [signed-by=%s] https://cloud.r-project.org/bin/linux/ubuntu %s-cran40/\n' "$keyring" "$codename" \
    > /etc/apt/sources.list.d/cran.list
  apt_get update -q
  apt_install r-base r-base-dev
  # Binary R packages from Posit Package Manager for this Ubuntu release: installs take seconds, not minutes.
  cat > /etc/R/Rprofile.site <<EOF
local({
  options(repos = c(CRAN = "https://packagemanager.posit.co/cran/__linux__/$codename/latest"))
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

# True when the pinned RStudio Server is installed. dpkg records Posit's 2024.12.1-563 as 2024.12.1+563.
rstudio_is_current() {
  local installed=""
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's format field, not a shell variable
  installed=$(dpkg-query -W -f='${Version}' rstudio-server 2>/dev/null || true)
  [ "$installed" = "$SIMLAB_RSTUDIO_VERSION" ] || [ "$installed" = "${SIMLAB_RSTUDIO_VERSION/-/+}" ]
}

# Checked right after the AWS CLI exists (so the failure is signalled at once, not after the 40-minute timeout)
# and before anything slow: without a pinned digest the RStudio package cannot be verified, so nothing is built.
require_rstudio_digest() {
  if [ -z "$SIMLAB_RSTUDIO_SHA256" ] && ! rstudio_is_current; then
    log "refusing to install RStudio Server $SIMLAB_RSTUDIO_VERSION ($SIMLAB_ARCH) unverified: set rstudio_server_sha256"
    return 1
  fi
}

install_rstudio() {
  log "RStudio Server $SIMLAB_RSTUDIO_VERSION"
  if ! rstudio_is_current; then
    local deb
    deb=$(mktemp --suffix=.deb)
    # Posit builds one package for Ubuntu 22.04 and later.
    curl -fsSL -o "$deb" \
      "https://download2.rstudio.org/server/jammy/$SIMLAB_ARCH/rstudio-server-$SIMLAB_RSTUDIO_VERSION-$SIMLAB_ARCH.deb"
    # Fail closed: only the package whose digest the deployment pinned is installed.
    echo "$SIMLAB_RSTUDIO_SHA256  $deb" | sha256sum --check --strict -
    gdebi -n "$deb"
    rm -f "$deb"
  fi
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
  log "Docker engine"
  apt_install docker.io
  systemctl enable --now docker
}

configure_environment() {
  log "region, platform and job configuration for shells and R sessions"
  cat > /etc/profile.d/simlab.sh <<EOF
export AWS_DEFAULT_REGION=$SIMLAB_REGION
export AWS_REGION=$SIMLAB_REGION
export SIMLAB_PLATFORM=$SIMLAB_PLATFORM
export SIMLAB_JOB_CONFIG_PARAMETER=$SIMLAB_JOB_CONFIG_PARAMETER
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
SIMLAB_JOB_CONFIG_PARAMETER=$SIMLAB_JOB_CONFIG_PARAMETER
RETICULATE_PYTHON=$VENV/bin/python
PATH=$VENV/bin:\${PATH}
# simlab-end
EOF
}

install_welcome() {
  log "welcome example"
  local name _role _uid _arn home
  while read -r name _role _uid _arn; do
    home="$HOME_ROOT/$name"
    # Never overwrite what the user has edited: copies only what is missing.
    if [ -f "$SRC/stacks/workspace/welcome.R" ] && [ ! -e "$home/welcome.R" ]; then
      install -o "$name" -g "$name" -m 0644 "$SRC/stacks/workspace/welcome.R" "$home/welcome.R"
    fi
    if [ -d "$SRC/R/examples" ] && [ ! -e "$home/examples" ]; then
      cp -r "$SRC/R/examples" "$home/examples"
      chown -R "$name:$name" "$home/examples"
    fi
  done < <(each_user)
}

main() {
  exec > >(tee -a /var/log/simlab-bootstrap.log | logger -t simlab-bootstrap) 2>&1
  trap on_exit EXIT
  log "start"
  install_base
  install_python
  require_rstudio_digest
  install_efs_utils
  mount_home
  create_users
  install_password_unit
  install_package
  install_r
  install_docker
  configure_environment
  install_rstudio
  install_welcome
  # Prove the pieces answer before telling CloudFormation the host is ready.
  "$VENV/bin/python" -c 'import simulation, boto3'
  curl -fsS --retry 10 --retry-connrefused --retry-delay 3 -o /dev/null http://127.0.0.1:8787/
  log "done"
  signal SUCCESS
}

# Sourcing the script (the tests do) defines its functions without running it.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
