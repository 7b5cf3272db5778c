# charon-plugin/: libstrongswan-clustergate.so, loaded by Debian's charon,
# and the two gateway files that belong to the tunnel (the clustergated
# component receiving tunnel events, the office-config CLI subcommand).
#
# strongSwan ships no headers in Debian: fetch-headers.sh unpacks and
# configures the source of the installed version under build/strongswan/
# once; the stamp keeps later builds from fetching or configuring again.

SS_UPSTREAM := $(shell dpkg-query -W -f='$${Version}' strongswan-charon \
	2>/dev/null | sed 's/^[0-9]*://; s/-.*//')
SS_TREE  := $(BUILD)/strongswan/strongswan-$(SS_UPSTREAM)
SS_STAMP := $(SS_TREE).stamp

PLUGIN_SRCS := charon-plugin/clustergate_plugin.c \
	charon-plugin/clustergate_config.c charon-plugin/clustergate_creds.c \
	charon-plugin/clustergate_listener.c charon-plugin/clustergate_control.c
PLUGIN_SO := $(BUILD)/libstrongswan-clustergate.so

# strongSwan's own build uses -Wno-format (its printf hooks, %Y %H, are
# unknown to gcc) and does not mark unused METHOD() parameters.
# Its utils.h defines _GNU_SOURCE empty; match that to avoid a redefinition.
EXTRA_CFLAGS_charon-plugin := -U_GNU_SOURCE -D_GNU_SOURCE= -include $(SS_TREE)/config.h \
	-I$(SS_TREE)/src/libstrongswan -I$(SS_TREE)/src/libcharon \
	-Wno-format -Wno-unused-parameter -Wno-sign-compare

$(SS_STAMP):
	sh charon-plugin/fetch-headers.sh $(BUILD)/strongswan

$(call objs,$(PLUGIN_SRCS)): $(SS_STAMP)

$(PLUGIN_SO): $(call objs,$(PLUGIN_SRCS)) $(BUILD)/libcgconfig.a \
		charon-plugin/exports.map
	@headers=$$(sed -n 's/^#define VERSION "\(.*\)"$$/\1/p' $(SS_TREE)/config.h); \
	if [ "$$headers" != "$(SS_UPSTREAM)" ]; then \
		echo "charon-plugin: built against strongSwan $$headers headers" \
		     "but strongSwan $(SS_UPSTREAM) is installed;" \
		     "rm -rf $(BUILD)/strongswan and run make again" >&2; exit 1; \
	fi
	$(CC) -shared -o $@ $(call objs,$(PLUGIN_SRCS)) $(BUILD)/libcgconfig.a \
		-Wl,--version-script=charon-plugin/exports.map -Wl,-Bsymbolic \
		$(shell pkg-config --libs jansson)

BINARIES += $(PLUGIN_SO)

.PHONY: install-charon-plugin
install-charon-plugin: $(PLUGIN_SO)
	install -D -m 0644 $(PLUGIN_SO) \
		$(DESTDIR)/usr/lib/ipsec/plugins/libstrongswan-clustergate.so
	install -D -m 0644 etc/strongswan.d/charon/clustergate.conf \
		$(DESTDIR)/etc/strongswan.d/charon/clustergate.conf
INSTALL_RULES += install-charon-plugin

DAEMON_SRCS += gateway/tunnel.c
CLI_SRCS += gateway/office_config.c
