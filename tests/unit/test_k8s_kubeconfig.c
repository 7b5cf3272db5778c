/*
 * kubeconfig reading: what a gateway gets from the usual shapes of the
 * file, and the exact messages for files it cannot use.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/kubeconfig.h"

static char error[512];

static int parse(const char *yaml, struct k8s_connection *out)
{
	error[0] = '\0';
	return kubeconfig_parse(yaml, strlen(yaml), "/etc/clustergate",
				"/etc/clustergate/kubeconfig", out, error,
				sizeof(error));
}

static void test_token_and_ca_file(void **state)
{
	struct k8s_connection c;

	(void)state;
	assert_int_equal(parse(
		"apiVersion: v1\nkind: Config\n"
		"clusters:\n"
		"- name: other\n  cluster: {server: 'https://192.0.2.1'}\n"
		"- name: prod\n"
		"  cluster:\n"
		"    server: https://10.0.32.10:6443\n"
		"    certificate-authority: pki/ca.crt\n"
		"users:\n"
		"- name: gw\n  user:\n    token: abc.def\n"
		"contexts:\n"
		"- name: a\n  context: {cluster: other, user: gw}\n"
		"- name: b\n  context: {cluster: prod, user: gw, namespace: x}\n"
		"current-context: b\n", &c), 0);
	assert_string_equal(c.server, "https://10.0.32.10:6443");
	assert_string_equal(c.ca_file, "/etc/clustergate/pki/ca.crt");
	assert_string_equal(c.token, "abc.def");
	assert_null(c.token_file);
	assert_null(c.cert_data);
	assert_false(c.insecure_skip_verify);
	k8s_connection_clear(&c);
}

static void test_embedded_data(void **state)
{
	struct k8s_connection c;

	(void)state;
	/* "-----CA-----\n", "CERT\n", "KEY": base64 without and with padding */
	assert_int_equal(parse(
		"clusters:\n- name: c\n  cluster:\n"
		"    server: https://k8s.example:443\n"
		"    certificate-authority-data: LS0tLS1DQS0tLS0tCg==\n"
		"users:\n- name: u\n  user:\n"
		"    client-certificate-data: Q0VSVAo=\n"
		"    client-key-data: S0VZ\n"
		"contexts:\n- name: only\n  context: {cluster: c, user: u}\n",
		&c), 0);
	assert_int_equal(c.ca_data_len, 13);
	assert_memory_equal(c.ca_data, "-----CA-----\n", 13);
	assert_int_equal(c.cert_data_len, 5);
	assert_memory_equal(c.cert_data, "CERT\n", 5);
	assert_int_equal(c.key_data_len, 3);
	assert_memory_equal(c.key_data, "KEY", 3);
	assert_null(c.token);
	k8s_connection_clear(&c);
}

static void test_token_file_and_cert_files(void **state)
{
	struct k8s_connection c;

	(void)state;
	assert_int_equal(parse(
		"clusters:\n- name: c\n  cluster:\n"
		"    server: https://k8s\n    insecure-skip-tls-verify: true\n"
		"users:\n- name: u\n  user:\n"
		"    tokenFile: /var/run/secrets/token\n"
		"    client-certificate: gw.crt\n    client-key: /k/gw.key\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		"current-context: x\n", &c), 0);
	assert_true(c.insecure_skip_verify);
	assert_string_equal(c.token_file, "/var/run/secrets/token");
	assert_string_equal(c.cert_file, "/etc/clustergate/gw.crt");
	assert_string_equal(c.key_file, "/k/gw.key");
	k8s_connection_clear(&c);
}

static void expect_error(const char *yaml, int err, const char *message)
{
	struct k8s_connection c;

	assert_int_equal(parse(yaml, &c), err);
	assert_string_equal(error, message);
	assert_null(c.server);
}

#define GOOD_CLUSTER "clusters:\n- name: c\n  cluster: {server: 'https://k8s'}\n"
#define GOOD_CONTEXT "contexts:\n- name: x\n  context: {cluster: c, user: u}\n" \
	"current-context: x\n"

static void test_errors(void **state)
{
	(void)state;
	expect_error(GOOD_CLUSTER GOOD_CONTEXT
		"users:\n- name: u\n  user:\n    exec:\n      command: aws\n",
		-ENOTSUP,
		"kubeconfig /etc/clustergate/kubeconfig: users[u].user: exec and auth-provider plugins are not supported; use a token, tokenFile or a client certificate");
	expect_error(GOOD_CLUSTER GOOD_CONTEXT
		"users:\n- name: u\n  user:\n    client-certificate: a.crt\n",
		-EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: users[u].user: a client certificate needs both client-certificate(-data) and client-key(-data)");
	expect_error(GOOD_CLUSTER GOOD_CONTEXT
		"users:\n- name: u\n  user: {username: admin}\n", -EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: users[u].user: no credentials (token, tokenFile or client-certificate)");
	expect_error(GOOD_CONTEXT "users:\n- name: u\n  user: {token: t}\n",
		-ENOENT,
		"kubeconfig /etc/clustergate/kubeconfig: cluster 'c' is not defined");
	expect_error(GOOD_CLUSTER "users:\n- name: u\n  user: {token: t}\n"
		"contexts: []\n", -EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: current-context: missing");
	expect_error("clusters:\n- name: c\n  cluster: {server: 'k8s:6443'}\n"
		GOOD_CONTEXT "users:\n- name: u\n  user: {token: t}\n", -EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: clusters[c].cluster.server: 'k8s:6443' is not an http(s) URL");
	expect_error("clusters:\n- name: c\n  cluster: {server: 'https://k8s', "
		"certificate-authority-data: 'no*base64'}\n"
		GOOD_CONTEXT "users:\n- name: u\n  user: {token: t}\n", -EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: clusters[c].cluster.certificate-authority-data: not valid base64");
	expect_error("clusters: [\n  {name: c\n", -EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: line 3: did not find expected ',' or '}'");
	expect_error("- just\n- a list\n", -EINVAL,
		"kubeconfig /etc/clustergate/kubeconfig: not a kubeconfig (no mapping at the top)");
}

static void test_missing_file(void **state)
{
	struct k8s_connection c;

	(void)state;
	assert_int_equal(kubeconfig_load("/nonexistent/kubeconfig", &c, error,
					 sizeof(error)), -ENOENT);
	assert_string_equal(error,
		"kubeconfig /nonexistent/kubeconfig: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_and_ca_file),
		cmocka_unit_test(test_embedded_data),
		cmocka_unit_test(test_token_file_and_cert_files),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
