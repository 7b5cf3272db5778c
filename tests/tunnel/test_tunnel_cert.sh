#!/bin/bash
# The same tunnel with X.509 authentication, certificates made by pki:
# one CA signs the gateway's and the office's certificates; each side
# proves its id (a subjectAltName) and checks the other against the CA.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tunnel_lib.sh"

tunnel_topology_up || { fail "topology"; finish; }
P="$T/pki"
mkdir -p "$P" "$T/office/x509" "$T/office/x509ca" "$T/office/private"
umask 077
# pki's stderr (TPM plugin noise) goes to a log
exec 4>&2 2>"$T/pki.log"
pki --gen --type ecdsa --size 256 --outform pem > "$P/ca.key"
pki --self --ca --lifetime 2 --in "$P/ca.key" --dn "CN=clustergate test CA" \
	--outform pem > "$P/ca.crt"
# issue NAME ID: key + certificate for ID, signed by the CA.
issue() {
	pki --gen --type ecdsa --size 256 --outform pem > "$P/$1.key"
	pki --pub --in "$P/$1.key" | pki --issue --lifetime 2 --cacert "$P/ca.crt" \
		--cakey "$P/ca.key" --dn "CN=$2" --san "$2" --outform pem > "$P/$1.crt"
}
issue gw gw.cloud.example
issue office office.example
umask 022
exec 2>&4 4>&-
chmod 644 "$P"/*.crt
check "pki made the certificates" sh -c \
	"pki --print --in $P/gw.crt | grep -q 'altNames:  gw.cloud.example'"
cp "$P/office.crt" "$T/office/x509/"
cp "$P/ca.crt" "$T/office/x509ca/"
cp "$P/office.key" "$T/office/private/"

tunnel_config "$T/gw.json" cert
cg_bg "$GW" $BIN/clustergated -c "$T/gw.json"
check "clustergated is up" wait_for 10 test -S "$T/cg.sock"
check "gateway charon starts with the plugin" tunnel_gw_start
check "plugin loaded the config and certificates" wait_for 5 grep -q \
	"clustergate: loaded $T/gw.json" "$T/charon-gw.log"
check "office charon starts with the generated config" tunnel_office_start -o
check "office config asks for our certificate and the CA" sh -c \
	"grep -q 'certs = office.crt' $T/office/clustergate.conf &&
	 grep -q 'cacerts = ca.crt' $T/office/clustergate.conf"
check "tunnel comes up (gateway side)" wait_for 20 child_installed gw
check "tunnel comes up (office side)" wait_for 5 child_installed office
check "gateway authenticated the office by its certificate" grep -q \
	"authentication of 'office.example' with ECDSA_WITH_SHA256_DER successful" \
	"$T/charon-gw.log"
check "office authenticated the gateway by its certificate" grep -q \
	"authentication of 'gw.cloud.example' with ECDSA_WITH_SHA256_DER successful" \
	"$T/charon-office.log"
check "client pings the pod across the tunnel" wait_for 10 client_reaches_pod
check "status: tunnel up" wait_for 5 status_is state up
check "status: remote selectors" test "$(status_field remote_ts)" = "172.16.0.0/24"

# A key that is not the certificate's disables the plugin, charon stays up.
tunnel_charon_kill gw
cp "$P/office.key" "$P/gw.key"
: > "$T/charon-gw.log"
check "gateway charon starts with a mismatched key" tunnel_gw_start
check "log says the key does not belong to the certificate" wait_for 5 grep -qF \
	"clustergate: auth.key_file: '$P/gw.key' is not the key of auth.cert_file '$P/gw.crt'" \
	"$T/charon-gw.log"
check "gateway charon is alive" tunnel_charon_alive gw

tunnel_charon_kill office
tunnel_charon_kill gw
finish
