/*
 * The compiled classifier (classifier.bpf.o), linked into lbd as bytes so
 * the program always matches the daemon that writes its maps.
 */
#include "lbd/dataplane/classifier_obj.h"

#ifndef LBD_CLS_OBJ
#error "LBD_CLS_OBJ: path of the compiled classifier (set by the Makefile)"
#endif

__asm__(
"	.section .rodata\n"
"	.balign 8\n"
"	.global lbd_cls_obj\n"
"lbd_cls_obj:\n"
"	.incbin \"" LBD_CLS_OBJ "\"\n"
"	.global lbd_cls_obj_end\n"
"lbd_cls_obj_end:\n"
"	.previous\n");
