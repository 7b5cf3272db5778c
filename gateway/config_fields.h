/*
 * Typed field readers for the config parser. Internal to the config
 * library: config.c walks the document, these read one value each.
 *
 * Every reader takes the JSON path of the value for its messages, records
 * a problem in the reader's error list, and returns false on error. A
 * missing optional key leaves *out untouched (the caller set the default).
 */
#ifndef CLUSTERGATE_CONFIG_FIELDS_H
#define CLUSTERGATE_CONFIG_FIELDS_H

#include <jansson.h>

#include "gateway/config.h"

#define CG_PATH_MAX 160

struct reader {
	struct cg_errors *errors;
};

void reader_error(struct reader *reader, const char *path, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

/* "parent.key" or "parent[index]" into buf (CG_PATH_MAX bytes). */
const char *path_key(char *buf, const char *parent, const char *key);
const char *path_index(char *buf, const char *parent, size_t index);

/*
 * Check that value at path is an object whose keys are all in known
 * (NULL-terminated). Unknown keys are errors. Returns false if value is
 * not an object.
 */
bool read_object(struct reader *reader, const char *path, json_t *value,
		 const char *const known[]);

/* Each reads object[key]; required: a missing key is an error. */
bool read_string(struct reader *reader, const char *parent, json_t *object,
		 const char *key, bool required, char **out);
bool read_address(struct reader *reader, const char *parent, json_t *object,
		  const char *key, bool required, struct in_addr *out);
bool read_cidr(struct reader *reader, const char *parent, json_t *object,
	       const char *key, bool required, struct cg_cidr *out);
bool read_cidr_list(struct reader *reader, const char *parent,
		    json_t *object, const char *key, bool required,
		    struct cg_cidr_list *out);
bool read_string_list(struct reader *reader, const char *parent,
		      json_t *object, const char *key,
		      struct cg_string_list *out);
bool read_uint(struct reader *reader, const char *parent, json_t *object,
	       const char *key, uint32_t min, uint32_t max, uint32_t *out);
bool read_bool(struct reader *reader, const char *parent, json_t *object,
	       const char *key, bool *out);
/* One of choices (NULL-terminated); *out is the index. */
bool read_choice(struct reader *reader, const char *parent, json_t *object,
		 const char *key, const char *const choices[], int *out);

/* Dotted-quad text of address, newly allocated. */
char *address_string(struct in_addr address);

/* config_sections.c: read every section of doc into config. */
void config_parse_sections(struct reader *reader, json_t *doc,
			   struct cg_config *config);
/* config_check.c: cross-section checks on a parsed config. */
void config_check(struct reader *reader, const struct cg_config *config);

/* The value as text for messages: strings unquoted, else compact JSON. */
char *value_text(json_t *value);

#endif
