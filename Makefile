# SPDX-License-Identifier: GPL-2.0
#
# resmgr: build a Rust-enabled Linux 7.3 with this overlay and test it under QEMU.
# Everything big (toolchain chroot, kernel tree, objects) lives in RESMGR_CACHE
# (default /var/cache/resmgr), outside the clone. See README.md.

export RESMGR_CACHE ?= /var/cache/resmgr
KIT := $(CURDIR)/kit

.PHONY: help demo test vng-test toolchain prepare build run shell check fmt series bench stress clean-cache

help:
	@sed -n 's/^## //p' README.md 2>/dev/null || echo "targets: demo test build run shell check series"

## make toolchain   provision the toolchain (host or chroot), idempotent
toolchain:
	@$(KIT)/provision.sh

## make prepare     kernel work tree: base + kit/patches + overlay (incremental)
prepare: toolchain
	@$(KIT)/prepare.sh

## make build       configure and build the kernel (incremental)
build: toolchain
	@$(KIT)/build.sh

## make test        build, boot, run all KUnit cases and kselftests
test:
	@$(KIT)/test.sh

## make vng-test    the resmgr kselftests through virtme-ng (vng), as kernel developers run them
vng-test:
	@$(KIT)/vng-test.sh

## make demo        the user story, narrated, in the booted kernel
demo:
	@$(KIT)/demo.sh

## make run CMD=..  run a shell command in the booted test kernel (/repo = this repo)
run: build
	@$(KIT)/vm.sh '$(CMD)'

## make shell       interactive shell in the booted test kernel
shell: build
	@$(KIT)/vm.sh

## make check       rustfmtcheck, CLIPPY, rustdoc, checkpatch, compile-fail, config matrix
check: build
	@$(KIT)/check.sh

## make fmt        rustfmt the project's Rust files in place
fmt: toolchain
	@$(KIT)/fmt.sh

## make series      write the change as a patch series against the base
series: prepare
	@$(KIT)/series.sh

## make bench       read-side, GPIO uAPI and revocation benchmarks, as ratios
bench:
	@$(KIT)/bench.sh

## make stress     unbind/bind under load, unload with fds open, failslab, fuzzing, kmemleak
stress:
	@$(KIT)/stress.sh

## make clean-cache remove the toolchain, tree and objects in $(RESMGR_CACHE)
clean-cache:
	@$(KIT)/clean-cache.sh
