/* The top-level commands of the mlops tool; each file cmd_<name>.c implements one. */
#ifndef MLOPS_CLI_COMMANDS_H
#define MLOPS_CLI_COMMANDS_H

#include "cli.h"

int cmd_version(cli *c);
int cmd_store(cli *c);
int cmd_runs(cli *c);
int cmd_metrics(cli *c);
int cmd_models(cli *c);
int cmd_report(cli *c);
int cmd_gpu(cli *c);
int cmd_drift(cli *c);
int cmd_sync(cli *c);

#endif
