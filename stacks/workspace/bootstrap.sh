#!/bin/bash
# Bootstrap of the RStudio Server host (Ubuntu LTS). Runs as EC2 user data; the CDK stack prepends the
# deployment's values (the SIMLAB_* variables checked below) and nothing secret: login passwords are read from
# Secrets Manager by a boot-time unit, never written here or logged. This part gets Python, the AWS CLI and
# this project's files; host-setup.sh (among those files, sourced here) does the rest: user data is limited
# to 16 KB.
#
# Idempotent: every step checks or overwrites its own result, so a re-run is harmless. Any failure signals
# FAILURE to CloudFormation, with the failed step in the signal's ID, and the deployment rolls back.
# `make rehearse-boot` runs this script in a systemd container against local stand-ins (docs/rehearsal.md).
set -euo pipefail

: "${SIMLAB_REGION:?}" "${SIMLAB_PLATFORM:?}" "${SIMLAB_JOB_CONFIG_PARAMETER:?}" "${SIMLAB_USERS:?}"
: "${SIMLAB_USER_ROLE_ARN:?}" "${SIMLAB_FILE_SYSTEM_ID:?}" "${SIMLAB_PACKAGE_S3_URL:?}" "${SIMLAB_STACK_NAME:?}"
: "${SIMLAB_LOGICAL_ID:?}" "${SIMLAB_RSTUDIO_VERSION:?}" "${SIMLAB_RSTUDIO_DEB_URL:?}" "${SIMLAB_RSTUDIO_KEY_URL:?}"
: "${SIMLAB_RSTUDIO_KEY_FINGERPRINT:?}" "${SIMLAB_ARCH:?}" "${SIMLAB_LISTEN_ADDRESS:?}" "${SIMLAB_SECURE_COOKIES:?}"
: "${SIMLAB_PIP_CONSTRAINTS:?}"
# What the boot rehearsal replaces with local stand-ins (docs/rehearsal.md); empty: AWS's endpoints, PyPI.
SIMLAB_AWS_ENDPOINT_URL="${SIMLAB_AWS_ENDPOINT_URL:-}"
SIMLAB_PIP_INDEX_URL="${SIMLAB_PIP_INDEX_URL:-https://pypi.org/simple}"

readonly SIMLAB_HOME=/opt/simlab
readonly VENV="$SIMLAB_HOME/venv"
readonly SRC="$SIMLAB_HOME/src"
readonly IMDS=169.254.169.254
export DEBIAN_FRONTEND=noninteractive
# cloud-init runs user data without HOME; gpg, pip and R want one.
export HOME=/root
export AWS_DEFAULT_REGION="$SIMLAB_REGION"
export PIP_INDEX_URL="$SIMLAB_PIP_INDEX_URL"
[ -z "$SIMLAB_AWS_ENDPOINT_URL" ] || export AWS_ENDPOINT_URL="$SIMLAB_AWS_ENDPOINT_URL"

STEP=start
log() { printf '%s simlab-bootstrap: %s\n' "$(date -u +%FT%TZ)" "$*"; }
# Each step names itself: a failure signal carries the name of the step that failed.
step() {
  STEP=$1
  log "${*:2}"
}

imds() {
  local token
  token=$(curl -fsS -X PUT "http://$IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://$IMDS/latest/meta-data/$1"
}

# Tell CloudFormation how the bootstrap ended; the CreationPolicy waits for one signal. A failure's ID is the
# instance ID plus the failed step (SignalResource has no field for a reason; the ID shows in the stack events).
signal() {
  local status=$1 id
  id=$(imds instance-id || echo unknown-instance)
  [ "$status" = SUCCESS ] || id="$id-failed-at-$STEP"
  if [ -x "$VENV/bin/aws" ]; then
    "$VENV/bin/aws" cloudformation signal-resource --stack-name "$SIMLAB_STACK_NAME" \
      --logical-resource-id "$SIMLAB_LOGICAL_ID" --unique-id "${id:0:64}" --status "$status" ||
      log "could not signal $status to CloudFormation"
  else
    log "no AWS CLI yet, cannot signal $status; the CreationPolicy timeout will fail the deployment"
  fi
}

on_exit() {
  local code=$?
  if [ "$code" -ne 0 ]; then
    log "FAILED at step $STEP with exit code $code (see /var/log/simlab-bootstrap.log)"
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
  step base-packages "base packages"
  apt_get update -q
  apt_install ca-certificates curl gnupg unzip nfs-common python3-venv python3-dev build-essential \
    gdebi-core iptables libcurl4-openssl-dev libssl-dev libxml2-dev
}

install_python() {
  step python "python venv with the AWS CLI, boto3 and the sagemaker SDK"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  # The versions this repository tests (requirements-host.txt), one `name==version` per line.
  mkdir -p "$SIMLAB_HOME"
  tr ' ' '\n' <<< "$SIMLAB_PIP_CONSTRAINTS" > "$SIMLAB_HOME/constraints.txt"
  "$VENV/bin/pip" install -q --upgrade pip
  # sagemaker 2.x keeps the ScriptProcessor API of the original workflow.
  "$VENV/bin/pip" install -q -c "$SIMLAB_HOME/constraints.txt" awscli boto3 sagemaker
}

fetch_package() {
  step package "this project's package, R wrapper and host files from $SIMLAB_PACKAGE_S3_URL"
  local zip
  zip=$(mktemp --suffix=.zip)
  "$VENV/bin/aws" s3 cp --only-show-errors "$SIMLAB_PACKAGE_S3_URL" "$zip"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  unzip -q -o "$zip" -d "$SRC"
  rm -f "$zip"
}

main() {
  exec > >(tee -a /var/log/simlab-bootstrap.log | logger -t simlab-bootstrap) 2>&1
  trap on_exit EXIT
  log "start"
  install_base
  install_python
  fetch_package
  # shellcheck source=/dev/null # one of the files fetch_package unpacked
  . "$SRC/stacks/workspace/host-setup.sh"
  setup_host
  # Prove the pieces answer before telling CloudFormation the host is ready.
  step check "checking the installation"
  "$VENV/bin/python" -c 'import simulation, boto3'
  curl -fsS --retry 10 --retry-connrefused --retry-delay 3 -o /dev/null http://127.0.0.1:8787/
  log "done"
  signal SUCCESS
}

# Sourcing the script (the tests do) defines its functions without running it.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
