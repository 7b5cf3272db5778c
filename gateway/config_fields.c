/* Typed field readers: one JSON value in, one C value out, or a message. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config_fields.h"

void reader_error(struct reader *reader, const char *path, const char *fmt,
		  ...)
{
	struct cg_errors *errors = reader->errors;
	char *detail = NULL, *message = NULL, **grown;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	va_end(ap);
	if (!detail || asprintf(&message, "%s: %s", path, detail) < 0) {
		free(detail);
		return;
	}
	free(detail);
	grown = realloc(errors->messages,
			(errors->count + 1) * sizeof(*errors->messages));
	if (!grown) {
		free(message);
		return;
	}
	errors->messages = grown;
	errors->messages[errors->count++] = message;
}

const char *path_key(char *buf, const char *parent, const char *key)
{
	if (parent && *parent)
		snprintf(buf, CG_PATH_MAX, "%s.%s", parent, key);
	else
		snprintf(buf, CG_PATH_MAX, "%s", key);
	return buf;
}

const char *path_index(char *buf, const char *parent, size_t index)
{
	snprintf(buf, CG_PATH_MAX, "%s[%zu]", parent, index);
	return buf;
}

char *address_string(struct in_addr address)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &address, text, sizeof(text));
	return strdup(text);
}

char *value_text(json_t *value)
{
	if (json_is_string(value))
		return strdup(json_string_value(value));
	return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *type_name(json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

bool read_object(struct reader *reader, const char *path, json_t *value,
		 const char *const known[])
{
	char child[CG_PATH_MAX];
	const char *key;
	json_t *member;
	bool ok = true;

	if (!json_is_object(value)) {
		reader_error(reader, path, "expected an object, got %s",
			     type_name(value));
		return false;
	}
	json_object_foreach(value, key, member) {
		size_t i;

		for (i = 0; known[i]; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (!known[i]) {
			reader_error(reader, path_key(child, path, key),
				     "unknown key");
			ok = false;
		}
	}
	return ok;
}

/* Returns the member, NULL if absent (error if required). */
static json_t *member(struct reader *reader, const char *parent,
		      json_t *object, const char *key, bool required)
{
	char path[CG_PATH_MAX];
	json_t *value = json_object_get(object, key);

	if (!value && required)
		reader_error(reader, path_key(path, parent, key),
			     "missing (required)");
	return value;
}

static bool expect_type(struct reader *reader, const char *path,
			json_t *value, json_type type, const char *what)
{
	if (json_typeof(value) == type)
		return true;
	reader_error(reader, path, "expected %s, got %s", what,
		     type_name(value));
	return false;
}

bool read_string(struct reader *reader, const char *parent, json_t *object,
		 const char *key, bool required, char **out)
{
	char path[CG_PATH_MAX];
	json_t *value = member(reader, parent, object, key, required);
	char *copy;

	if (!value)
		return !required;
	path_key(path, parent, key);
	if (!expect_type(reader, path, value, JSON_STRING, "a string"))
		return false;
	if (json_string_length(value) == 0) {
		reader_error(reader, path, "must not be empty");
		return false;
	}
	if (strlen(json_string_value(value)) != json_string_length(value)) {
		reader_error(reader, path, "contains a NUL character");
		return false;
	}
	copy = strdup(json_string_value(value));
	if (!copy)
		return false;
	free(*out);
	*out = copy;
	return true;
}

static bool parse_address_value(struct reader *reader, const char *path,
				json_t *value, void *out)
{
	if (!expect_type(reader, path, value, JSON_STRING,
			 "an IPv4 address string"))
		return false;
	if (inet_pton(AF_INET, json_string_value(value), out) != 1) {
		reader_error(reader, path, "'%s' is not an IPv4 address",
			     json_string_value(value));
		return false;
	}
	return true;
}

static bool parse_cidr_value(struct reader *reader, const char *path,
			     json_t *value, void *result)
{
	struct cg_cidr *out = result;
	const char *text;
	int err;

	if (!expect_type(reader, path, value, JSON_STRING,
			 "an IPv4 CIDR string"))
		return false;
	text = json_string_value(value);
	err = cg_cidr_parse(text, out);
	if (err == -EDOM) {
		struct cg_cidr network = *out;
		char suggestion[CG_CIDR_STRLEN];

		network.address.s_addr &= network.prefix_len ?
			htonl(~0u << (32 - network.prefix_len)) : 0;
		reader_error(reader, path,
			     "'%s' has host bits set (did you mean %s?)", text,
			     cg_cidr_format(&network, suggestion));
		return false;
	}
	if (err) {
		reader_error(reader, path, "'%s' is not an IPv4 CIDR", text);
		return false;
	}
	return true;
}

typedef bool (*value_parser)(struct reader *reader, const char *path,
			    json_t *value, void *out);

/* object[key] through parse, with the missing/required handling. */
static bool read_parsed(struct reader *reader, const char *parent,
			json_t *object, const char *key, bool required,
			value_parser parse, void *out)
{
	char path[CG_PATH_MAX];
	json_t *value = member(reader, parent, object, key, required);

	if (!value)
		return !required;
	return parse(reader, path_key(path, parent, key), value, out);
}

bool read_address(struct reader *reader, const char *parent, json_t *object,
		  const char *key, bool required, struct in_addr *out)
{
	return read_parsed(reader, parent, object, key, required,
			   parse_address_value, out);
}

bool read_cidr(struct reader *reader, const char *parent, json_t *object,
	       const char *key, bool required, struct cg_cidr *out)
{
	return read_parsed(reader, parent, object, key, required,
			   parse_cidr_value, out);
}

bool read_cidr_list(struct reader *reader, const char *parent,
		    json_t *object, const char *key, bool required,
		    struct cg_cidr_list *out)
{
	char path[CG_PATH_MAX], item_path[CG_PATH_MAX];
	json_t *value = member(reader, parent, object, key, required), *item;
	size_t index;
	bool ok = true;

	if (!value)
		return !required;
	path_key(path, parent, key);
	if (!expect_type(reader, path, value, JSON_ARRAY, "an array of CIDRs"))
		return false;
	if (required && json_array_size(value) == 0) {
		reader_error(reader, path, "needs at least one CIDR");
		return false;
	}
	free(out->items);
	out->count = 0;
	out->items = calloc(json_array_size(value) + 1, sizeof(*out->items));
	if (!out->items)
		return false;
	json_array_foreach(value, index, item) {
		if (parse_cidr_value(reader, path_index(item_path, path, index),
				     item, &out->items[out->count]))
			out->count++;
		else
			ok = false;
	}
	return ok;
}

bool read_string_list(struct reader *reader, const char *parent,
		      json_t *object, const char *key,
		      struct cg_string_list *out)
{
	char path[CG_PATH_MAX], item_path[CG_PATH_MAX];
	json_t *value = member(reader, parent, object, key, false), *item;
	size_t index;

	if (!value)
		return true;
	path_key(path, parent, key);
	if (!expect_type(reader, path, value, JSON_ARRAY,
			 "an array of strings"))
		return false;
	if (json_array_size(value) == 0) {
		reader_error(reader, path, "must not be empty");
		return false;
	}
	json_array_foreach(value, index, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			reader_error(reader, path_index(item_path, path, index),
				     "expected a non-empty string");
			return false;
		}
	}
	for (index = 0; index < out->count; index++)
		free(out->items[index]);
	free(out->items);
	out->count = 0;
	out->items = calloc(json_array_size(value) + 1, sizeof(*out->items));
	if (!out->items)
		return false;
	json_array_foreach(value, index, item) {
		out->items[index] = strdup(json_string_value(item));
		if (!out->items[index])
			return false;
		out->count++;
	}
	return true;
}

bool read_uint(struct reader *reader, const char *parent, json_t *object,
	       const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	char path[CG_PATH_MAX];
	json_t *value = member(reader, parent, object, key, false);
	json_int_t number;

	if (!value)
		return true;
	path_key(path, parent, key);
	if (!json_is_integer(value)) {
		reader_error(reader, path, "expected an integer, got %s",
			     type_name(value));
		return false;
	}
	number = json_integer_value(value);
	if (number < (json_int_t)min || number > (json_int_t)max) {
		reader_error(reader, path, "%lld is out of range (%u to %u)",
			     (long long)number, min, max);
		return false;
	}
	*out = (uint32_t)number;
	return true;
}

bool read_bool(struct reader *reader, const char *parent, json_t *object,
	       const char *key, bool *out)
{
	char path[CG_PATH_MAX];
	json_t *value = member(reader, parent, object, key, false);

	if (!value)
		return true;
	if (!json_is_boolean(value)) {
		reader_error(reader, path_key(path, parent, key),
			     "expected true or false, got %s",
			     type_name(value));
		return false;
	}
	*out = json_is_true(value);
	return true;
}

bool read_choice(struct reader *reader, const char *parent, json_t *object,
		 const char *key, const char *const choices[], int *out)
{
	char path[CG_PATH_MAX], list[CG_PATH_MAX] = "";
	json_t *value = member(reader, parent, object, key, false);
	size_t i, used = 0;

	if (!value)
		return true;
	path_key(path, parent, key);
	if (json_is_string(value))
		for (i = 0; choices[i]; i++)
			if (strcmp(choices[i], json_string_value(value)) == 0) {
				*out = (int)i;
				return true;
			}
	for (i = 0; choices[i] && used < sizeof(list); i++)
		used += snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
				 i ? ", " : "", choices[i]);
	if (json_is_string(value))
		reader_error(reader, path, "'%s' is not one of %s",
			     json_string_value(value), list);
	else
		reader_error(reader, path, "expected one of %s, got %s", list,
			     type_name(value));
	return false;
}
