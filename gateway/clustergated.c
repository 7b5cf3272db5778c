/*
 * clustergated: load the config, start the components, serve the control
 * socket, and react to signals. SIGTERM/SIGINT stop cleanly (kernel state
 * stays for a hitless restart); SIGHUP reloads.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gateway/control_server.h"
#include "gateway/daemon_core.h"
#include "gateway/log.h"
#include "gateway/loop.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: clustergated [-c FILE] [-d]\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"  -d, --debug         log at debug level\n"
		"  -h, --help          this text\n", CG_DEFAULT_CONFIG_PATH);
}

static void on_signal(int fd, uint32_t events, void *data)
{
	struct daemon *daemon = data;
	struct signalfd_siginfo info;

	(void)events;
	if (read(fd, &info, sizeof(info)) != sizeof(info))
		return;
	if (info.ssi_signo == SIGHUP) {
		log_info("SIGHUP: reloading %s", daemon->config_path);
		daemon_reload(daemon);
	} else {
		log_info("signal %u: stopping", info.ssi_signo);
		loop_stop(daemon->loop);
	}
}

static int open_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

static struct cg_config *load_or_report(const char *path)
{
	struct cg_errors errors;
	struct cg_config *config = config_load(path, &errors);
	size_t i;

	for (i = 0; i < errors.count; i++)
		log_err("%s: %s", path, errors.messages[i]);
	config_errors_clear(&errors);
	return config;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon daemon = { .config_path = CG_DEFAULT_CONFIG_PATH };
	struct control_server *control = NULL;
	const char *error;
	int opt, signal_fd, status = 1;
	bool debug = false;

	while ((opt = getopt_long(argc, argv, "c:dh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			daemon.config_path = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	log_open("clustergated", debug ? LOG_DEBUG : LOG_INFO, 0);
	daemon.config = load_or_report(daemon.config_path);
	if (!daemon.config) {
		log_err("not starting: %s is invalid", daemon.config_path);
		return 1;
	}
	log_open("clustergated", debug ? LOG_DEBUG : daemon.config->log_level,
		 daemon.config->log_target == CG_LOG_SYSLOG);
	daemon.loop = loop_create();
	signal_fd = open_signals();
	if (!daemon.loop || signal_fd < 0 ||
	    loop_add_fd(daemon.loop, signal_fd, EPOLLIN, on_signal,
			&daemon) < 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	control = control_server_create(daemon.loop,
					daemon.config->control_socket,
					daemon_handle_request, &daemon, &error);
	if (!control) {
		log_err("%s: %s", daemon.config->control_socket, error);
		goto out;
	}
	if (daemon_start_components(&daemon) < 0)
		goto out;
	log_info("running: config %s, control socket %s", daemon.config_path,
		 daemon.config->control_socket);
	status = loop_run(daemon.loop) < 0 ? 1 : 0;
out:
	daemon_stop_components(&daemon);
	control_server_destroy(control);
	if (signal_fd >= 0)
		close(signal_fd);
	loop_destroy(daemon.loop);
	config_free(daemon.config);
	log_info("stopped");
	return status;
}
