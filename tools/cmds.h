/* cmds: the subcommands of sshmountfs-tool. Each takes the argument vector
 * starting at its own name (argv[0] = "keygen", ...) and returns the
 * process exit status (enum cli_exit in cli.h; check has its own, see
 * cmd_check.c). tool.c maps names to these. */
#ifndef SSHMOUNTFS_TOOLS_CMDS_H
#define SSHMOUNTFS_TOOLS_CMDS_H

int cmd_keygen(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_host_key(int argc, char **argv);
int cmd_known_hosts_add(int argc, char **argv);
int cmd_copy_id(int argc, char **argv);
int cmd_agent_start(int argc, char **argv);
int cmd_agent_unlock(int argc, char **argv);
int cmd_askpass_fd(int argc, char **argv);
int cmd_benchmark_ciphers(int argc, char **argv);
int cmd_random_id(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* The environment variable that turns sshmountfs-tool into an askpass
 * program for ssh-add: it names the descriptor to read the passphrase
 * from (never the passphrase itself). */
#define TOOL_ASKPASS_FD_ENV "SSHMOUNTFS_ASKPASS_FD"

#endif
