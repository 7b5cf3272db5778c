# tests/lab/: the incident's topology in network namespaces, its case
# matrix (asserted in make check) and `make demo` (README: "The lab").

NET_TESTS += tests/lab/test_matrix.sh

# make demo [KEEP=1] [LAB_VERBOSE=1]: install what is missing, build, run the
# matrix; KEEP=1 leaves the lab up with instructions (make demo-down).
KEEP ?= 0
demo: deps
	@$(MAKE) --no-print-directory all
	@KEEP=$(KEEP) bash tests/lab/lab.sh demo

.PHONY: demo-down
demo-down:
	@bash tests/lab/lab.sh down
