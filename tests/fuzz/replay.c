/*
 * Replays the fuzz corpus through the parser as a regression test (built
 * with ASan+UBSan by `make check`): each file must parse or be rejected,
 * never crash or leak. A config that is rejected must say why.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"

static int replay(const char *path)
{
	struct cg_errors errors;
	struct cg_config *config;
	char *text = NULL;
	size_t length = 0, used;
	FILE *file = fopen(path, "rb");

	if (!file)
		return -1;
	text = malloc(1 << 20);
	used = text ? fread(text, 1, 1 << 20, file) : 0;
	fclose(file);
	length = used;
	config = config_parse(text, length, &errors);
	free(text);
	if (!config && errors.count == 0) {
		fprintf(stderr, "%s: rejected without a message\n", path);
		return -1;
	}
	config_free(config);
	config_errors_clear(&errors);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
	struct dirent *entry;
	char path[4096];
	int count = 0, failed = 0;
	DIR *d = opendir(dir);

	if (!d) {
		perror(dir);
		return 1;
	}
	while ((entry = readdir(d))) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (replay(path) < 0)
			failed++;
		count++;
	}
	closedir(d);
	printf("fuzz corpus: %d passed, %d failed\n", count - failed, failed);
	return failed || count == 0;
}
