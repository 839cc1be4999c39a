// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uart.c - the secure PL011 and a printf-like logger (%u %lu %x %lx %s %c %%).
 */
#include "fw.h"

#define UART_DR		0x00
#define UART_FR		0x18
#define UART_FR_TXFF	(1u << 5)

void uart_putc(char c)
{
	while (mmio_rd32(SECURE_UART + UART_FR) & UART_FR_TXFF)
		;
	mmio_wr32(SECURE_UART + UART_DR, (u8)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

static void put_num(u64 v, unsigned base)
{
	static const char digits[] = "0123456789abcdef";
	char b[24];
	int i = 0;

	do {
		b[i++] = digits[v % base];
		v /= base;
	} while (v);
	while (i)
		uart_putc(b[--i]);
}

void logf(const char *fmt, ...)
{
	__builtin_va_list ap;
	int lng;

	__builtin_va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		fmt++;
		lng = 0;
		if (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'u':
			put_num(lng ? __builtin_va_arg(ap, u64) :
				      __builtin_va_arg(ap, u32), 10);
			break;
		case 'x':
			put_num(lng ? __builtin_va_arg(ap, u64) :
				      __builtin_va_arg(ap, u32), 16);
			break;
		case 's':
			uart_puts(__builtin_va_arg(ap, const char *));
			break;
		case 'c':
			uart_putc((char)__builtin_va_arg(ap, int));
			break;
		case '%':
			uart_putc('%');
			break;
		default:
			uart_putc('?');
		}
	}
	__builtin_va_end(ap);
}
