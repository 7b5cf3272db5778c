# Loads the lab: tests/lib.sh (namespace prefix, cleanup at exit) and the
# lab's parts. Sourced by lab.sh and test_matrix.sh.
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)
LAB_BIN=$LAB_REPO/build/bin
LAB_PLUGIN=$LAB_REPO/build/libstrongswan-clustergate.so

. "$LAB_REPO/tests/lib.sh"
# Everything a run writes (configs, logs, vici sockets) is in one place.
LAB_LOGS=$CG_TMP
cd "$LAB_REPO" || exit 1

. "$LAB_DIR/topology.sh"
. "$LAB_DIR/vpc.sh"
. "$LAB_DIR/tunnel.sh"
. "$LAB_DIR/matrix.sh"
. "$LAB_DIR/rows.sh"
. "$LAB_DIR/rows_clustergate.sh"
lab_names
