# One place for the project's commands; README and .ci/run use these targets. `make help` lists them from the
# `## ` text on each target's line.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
CDK    := npx --no-install cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# The bundled default: the reference case of the blog post, 10,000 iterations over 3 emulated hosts.
JOB_ARGS ?= --hosts 3 --width 1000 --height 1000 --people 1000 --radius 6 --iterations 10000 --seed 42
# Empty: the run's own folder, out/local-job/<parameters>-seed<seed> (another run never collides with it)
JOB_OUTPUT ?=
# Debian packages the tests use: R for the R paths, podman for the real image build, shellcheck, and
# docker-registry (a local registry the `image build` test pushes to).
# The R package's own checks (roxygen2, testthat) and its map/future backend (future, future.apply, globals, furrr);
# gnupg and binutils (ar) to build and verify signed .deb packages.
APT_PACKAGES := r-base-core r-cran-doparallel r-cran-foreach r-cran-reticulate \
                r-cran-roxygen2 r-cran-testthat r-cran-future r-cran-future.apply r-cran-globals \
                r-cran-furrr r-cran-parallelly r-cran-processx \
                podman buildah debootstrap runc catatonit shellcheck docker-registry gnupg binutils

.PHONY: help setup system-deps run synth test lint bench deploy destroy diff clean rehearse rehearse-boot

help: ## list the targets
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins many packages (boto3 among them) that clash with requirements.txt: its own venv.
.venv-checkov/.installed: requirements-checkov.txt
	python3 -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --upgrade pip
	.venv-checkov/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

setup: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed ## own .venv (editable install), node_modules (pinned CDK CLI) and .venv-checkov

# Installs what is missing, as root (CI and these machines) or through sudo.
system-deps: ## install the Debian packages the tests use (R and its packages, podman, shellcheck, ...) if missing
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

synth: setup ## synthesize every stack into cdk.out/ (cdk-nag runs on every synth)
	$(CDK) synth --quiet
	@ls cdk.out/*.template.json

run: synth ## set up, synthesize every stack, run the bundled simulation as a local emulated 3-host Processing job
	$(PY) -m simulation local-job $(JOB_ARGS) $(if $(JOB_OUTPUT),--output $(JOB_OUTPUT))

test: setup system-deps ## set up (including R, podman, shellcheck from apt) and run every test; what CI runs
	$(PY) -m pytest

# Every workspace mode is linted (checkov-skips.txt holds the accepted findings of all three), each synthesized
# with cdk.json's settings and that mode. W3005 is CDK's own (its custom-resource providers); the reason is in
# tests/infra/helpers.py.
LINT_MODES := ec2 sagemaker none
lint: setup ## ruff, mypy, cfn-lint, hadolint, shellcheck, checkov (held to checkov-skips.txt) over all three modes
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@for mode in $(LINT_MODES); do \
	  echo "synth rstudio_mode=$$mode -> cdk.out.lint/$$mode"; \
	  $(CDK) synth --quiet -c rstudio_mode=$$mode -o cdk.out.lint/$$mode >/dev/null || exit 1; \
	done
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- cdk.out.lint/*/*.template.json
	$(VENV)/bin/hadolint container/Dockerfile stacks/studio/image/Dockerfile
	shellcheck stacks/workspace/bootstrap.sh stacks/workspace/host-setup.sh stacks/workspace/verify-deb.sh scripts/*.sh
	$(PY) scripts/checkov_gate.py $(addprefix cdk.out.lint/,$(LINT_MODES))

rehearse: setup ## deploy every stack with the pinned CDK CLI into moto server and destroy it (docs/rehearsal.md)
	$(PY) -m rehearsal

# `make test` runs the same through tests/rehearsal/test_boot.py (pytest -m boot).
rehearse-boot: setup system-deps ## run the EC2 host's user data in a systemd container against moto and stand-ins (docs/rehearsal.md)
	$(PY) -m rehearsal.boot

bench: setup ## print the engine's benchmark tables (docs/performance.md)
	$(PY) benchmarks/engine.py

deploy: setup ## cdk deploy --all with cdk.json as it is (needs AWS credentials)
	$(CDK) deploy --all

diff: setup ## cdk diff --all against the deployed stacks
	$(CDK) diff --all

destroy: setup ## cdk destroy --all (data is kept unless delete_data_on_destroy=true)
	$(CDK) destroy --all

clean: ## remove cdk.out, cdk.out.lint, out and .pytest_cache
	rm -rf cdk.out cdk.out.lint out .pytest_cache
