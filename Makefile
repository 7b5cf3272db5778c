# clustergate: top-level build.
#
#   make            build everything under build/
#   make check      install missing packages, build, run every test
#   make demo       install missing packages, build, run the incident lab
#   make bench      benchmarks (nftables sync, route failover)
#   make fuzz       bounded libFuzzer run over the config parser
#   make install    install into $(DESTDIR)$(PREFIX)
#
# Each part registers its sources and tests in its own module.mk; this file
# holds the shared rules.

CC      ?= cc
PREFIX  ?= /usr
BUILD   := build
CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -g -fPIC -D_GNU_SOURCE -I.
CFLAGS  ?= -O2
SANFLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
PKGS    := jansson libmnl libnftnl libcurl yaml-0.1 libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS) $(PKG_CFLAGS)

.DEFAULT_GOAL := all
.PHONY: all deps check check-unit check-net demo bench fuzz install clean

# Outputs registered by module.mk files.
BINARIES   :=
UNIT_TESTS :=
NET_TESTS  :=
BENCHES    :=
INSTALL_RULES :=

# $(call objs,SRCS) / $(call asan_objs,SRCS): object paths for sources.
objs      = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
asan_objs = $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(1))

# $(call static_lib,NAME,SRCS): build/libNAME.a and build/asan/libNAME.a
define static_lib
$(BUILD)/lib$(1).a: $(call objs,$(2))
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
$(BUILD)/asan/lib$(1).a: $(call asan_objs,$(2))
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
endef

# $(call unit_test,NAME,SRCS,LIBNAMES): a cmocka test built plain and with
# ASan+UBSan. LIBNAMES are static libraries from static_lib, in link order.
define unit_test
$(BUILD)/tests/$(1): $(call objs,$(2)) $(foreach l,$(3),$(BUILD)/lib$(l).a)
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $$^ $$(PKG_LIBS) -lcmocka -lm
$(BUILD)/asan/tests/$(1): $(call asan_objs,$(2)) $(foreach l,$(3),$(BUILD)/asan/lib$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(SANFLAGS) -o $$@ $$^ $$(PKG_LIBS) -lcmocka -lm
UNIT_TESTS += $(BUILD)/tests/$(1) $(BUILD)/asan/tests/$(1)
endef

# V=1 shows full command lines.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS_$(firstword $(subst /, ,$<))) -MMD -MP -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(SANFLAGS) $(PKG_CFLAGS) $(EXTRA_CFLAGS_$(firstword $(subst /, ,$<))) -MMD -MP -c $< -o $@

include $(wildcard nat/module.mk routes/module.mk charon-plugin/module.mk etc/module.mk packer/module.mk tests/module.mk)
include gateway/module.mk

all: $(BINARIES)

# Debian packages for build, tests, demo. Installs only what is missing.
DEB_PACKAGES := build-essential pkg-config dpkg-dev bzip2 \
	libjansson-dev libmnl-dev libnftnl-dev libcurl4-openssl-dev \
	libyaml-dev libmicrohttpd-dev libcmocka-dev clang \
	strongswan-charon strongswan-swanctl strongswan-pki \
	libcharon-extra-plugins libstrongswan-extra-plugins \
	nftables iproute2 iputils-ping curl tcpdump conntrack \
	python3 openssl jq valgrind util-linux procps systemd packer debootstrap \
	libstrongswan-standard-plugins
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
		|| { echo "deps: apt-get install failed" >&2; exit 1; }; \
	fi

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(UNIT_TESTS)
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-net

check-unit: $(UNIT_TESTS)
	@sh tests/run-unit.sh $(UNIT_TESTS)

check-net: all
	@sh tests/run-net.sh $(NET_TESTS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCHES)
	@for b in $(BENCH_SCRIPTS); do sh $$b || exit 1; done

install: all $(INSTALL_RULES)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/tests $(BUILD)/bin $(BUILD)/*.a $(BUILD)/*.so

-include $(shell find $(BUILD)/obj $(BUILD)/asan -name '*.d' -type f 2>/dev/null)
