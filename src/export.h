/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * export.h - `teeshm-trace export`: aggregate metrics for fleet telemetry
 * (Prometheus textfile, JSON lines, an HTTP /metrics endpoint).
 */
#ifndef TEESHM_EXPORT_H
#define TEESHM_EXPORT_H

int cmd_export(int argc, char **argv);

#endif /* TEESHM_EXPORT_H */
