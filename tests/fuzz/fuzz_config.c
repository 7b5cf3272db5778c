/*
 * libFuzzer target: any bytes through the config parser. It must never
 * crash or leak, whatever the file holds. `make fuzz` runs it for a bounded
 * time; inputs worth keeping go to tests/fuzz/corpus/, which `make check`
 * replays (tests/fuzz/replay.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_errors errors;
	struct cg_config *config;

	config = config_parse((const char *)data, size, &errors);
	config_free(config);
	config_errors_clear(&errors);
	return 0;
}
