# swrun: the two commands a new user needs are `make run` and `make test` (as root).
# Both install the Debian packages they need when missing, then build.

PREFIX ?= /usr/local
SYSTEMD_UNIT_DIR ?= /lib/systemd/system
# The image servers' signing keys: swrun looks here whatever PREFIX is (SWRUN_KEYS_DIR moves it).
KEYS_DIR ?= /usr/share/swrun/keys
SWIFT ?= swift
SWRUN_DEBUG := .build/debug/swrun
# swrun answers as an OCI runtime (runc's command line) when called by this name.
SWRUN_OCI_DEBUG := .build/debug/swrun-oci
# A fully static binary starts in about half the time of one linked to libstdc++ and
# libcap dynamically, and runs in any rootfs. glibc warns that getaddrinfo in a static program
# loads the NSS modules of the glibc it was linked with: only image pulls resolve host names,
# on the host, where those modules are.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -static-executable

# libFuzzer targets (Fuzz/): seconds per target for `make fuzz`, and for the smoke pass of `make test`.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5

# Man pages and shell completions, made by swrun from its command table (`swrun man`,
# `swrun completion`): DOCS_SWRUN is the binary that writes them (`make install` uses the release
# build it installs; `make docs DOCS_SWRUN=.build/debug/swrun` is quicker to try).
MAN_DIR ?= $(PREFIX)/share/man/man1
BASH_COMPLETION_DIR ?= /usr/share/bash-completion/completions
ZSH_COMPLETION_DIR ?= $(PREFIX)/share/zsh/site-functions
FISH_COMPLETION_DIR ?= $(PREFIX)/share/fish/vendor_completions.d
DOCS_SWRUN ?= .build/release/swrun
DOCS_DIR := .build/docs

.PHONY: all deps build release run test fuzz bench vm-test oci-test docs install install-docs uninstall clean

all: build

deps:
	@scripts/install-deps.sh test

build: deps
	$(SWIFT) build
	ln -sf swrun $(SWRUN_OCI_DEBUG)

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

# The main job on the embedded default: a shell in a busybox container, removed afterwards.
run: build
	$(SWRUN_DEBUG) run --rm busybox

# The distribution boot tests need Debian rootfs trees: made once by debootstrap, cached in .build/distro.
test: deps
	scripts/distro-rootfs.sh systemd >/dev/null
	scripts/distro-rootfs.sh sysvinit >/dev/null
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) scripts/fuzz.sh
	scripts/soak.sh $(SWRUN_DEBUG) $(SOAK_SMOKE_CYCLES)
	scripts/vm-test.sh $(SWRUN_DEBUG)
	$(MAKE) oci-test

# Each parser of untrusted bytes under libFuzzer with AddressSanitizer, FUZZ_SECONDS each
# (built in .build-fuzz; what crashes lands in .build-fuzz/crashes/TARGET).
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# CYCLES start/stop cycles and executes (with and without a veth and limits, and an attach to a
# container that runs all along), then the mounts, cgroups, links, nftables rules, leases, files
# under /run/swrun and a monitor's fds counted again: non-zero exit on a leak. `make test` runs 50.
SOAK_CYCLES ?= 1000
SOAK_SMOKE_CYCLES ?= 50
soak: build
	scripts/soak.sh $(SWRUN_DEBUG) $(SOAK_CYCLES)

bench: release
	@scripts/install-deps.sh bench
	scripts/bench.sh .build/release/swrun

# swrun's cgroup limits, freeze and cleanup on a pure cgroup-v2 host: a Debian kernel under
# qemu (TCG) with an initramfs; about half a minute once the kernel is cached in .build/vm/.
# `make test` runs it too, with the debug build and its libraries.
vm-test: release
	scripts/vm-test.sh .build/release/swrun

# Real engines (podman, containerd's ctr, dockerd) driving an OCI runtime with runc's command
# line, hermetically in a private namespace; TAP output, about 10 s (scripts/oci-engines.sh).
# RUNTIME is swrun's OCI entry point (swrun under the name swrun-oci); RUNTIME=/usr/bin/crun
# or /usr/sbin/runc runs the same checks on them. `make test` runs it.
RUNTIME ?= $(CURDIR)/$(SWRUN_OCI_DEBUG)
oci-test: build
	@scripts/install-deps.sh oci
	scripts/oci-engines.sh $(RUNTIME)

install: release
	install -D -m 0755 .build/release/swrun $(DESTDIR)$(PREFIX)/bin/swrun
	ln -sf swrun $(DESTDIR)$(PREFIX)/bin/swrun-oci
	sed 's|@BINDIR@|$(PREFIX)/bin|g' packaging/swrun.service.in > .build/swrun.service
	install -D -m 0644 .build/swrun.service $(DESTDIR)$(SYSTEMD_UNIT_DIR)/swrun.service
	install -d $(DESTDIR)$(KEYS_DIR)
	for key in packaging/keys/*.gpg; do [ ! -e "$$key" ] || install -m 0644 "$$key" $(DESTDIR)$(KEYS_DIR)/; done
	$(MAKE) install-docs DOCS_SWRUN=.build/release/swrun

docs:
	rm -rf $(DOCS_DIR)
	$(DOCS_SWRUN) man --dir $(DOCS_DIR)/man1
	$(DOCS_SWRUN) completion bash > $(DOCS_DIR)/swrun.bash
	$(DOCS_SWRUN) completion zsh > $(DOCS_DIR)/_swrun
	$(DOCS_SWRUN) completion fish > $(DOCS_DIR)/swrun.fish

install-docs: docs
	install -d $(DESTDIR)$(MAN_DIR)
	install -m 0644 $(DOCS_DIR)/man1/*.1 $(DESTDIR)$(MAN_DIR)/
	install -D -m 0644 $(DOCS_DIR)/swrun.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/swrun
	install -D -m 0644 $(DOCS_DIR)/_swrun $(DESTDIR)$(ZSH_COMPLETION_DIR)/_swrun
	install -D -m 0644 $(DOCS_DIR)/swrun.fish $(DESTDIR)$(FISH_COMPLETION_DIR)/swrun.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/swrun $(DESTDIR)$(PREFIX)/bin/swrun-oci $(DESTDIR)$(SYSTEMD_UNIT_DIR)/swrun.service
	rm -f $(DESTDIR)$(KEYS_DIR)/*.gpg
	rmdir $(DESTDIR)$(KEYS_DIR) 2>/dev/null || true
	rm -f $(DESTDIR)$(MAN_DIR)/swrun.1 $(DESTDIR)$(MAN_DIR)/swrun-*.1
	rm -f $(DESTDIR)$(BASH_COMPLETION_DIR)/swrun $(DESTDIR)$(ZSH_COMPLETION_DIR)/_swrun $(DESTDIR)$(FISH_COMPLETION_DIR)/swrun.fish

clean:
	rm -rf .build .build-fuzz
