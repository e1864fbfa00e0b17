/*
 * The compiled BPF programs (classifier.bpf.o, fastpath.bpf.o), linked
 * into lbd as bytes so a program always matches the daemon that writes its
 * maps, and an installed lbd needs no separate file.
 */
#include "lbd/dataplane/bpf_objs.h"

#if !defined(LBD_CLS_OBJ) || !defined(LBD_FP_OBJ)
#error "LBD_CLS_OBJ, LBD_FP_OBJ: paths of the compiled programs (the Makefile's)"
#endif

__asm__(
"	.section .rodata\n"
"	.balign 8\n"
"	.global lbd_cls_obj\n"
"lbd_cls_obj:\n"
"	.incbin \"" LBD_CLS_OBJ "\"\n"
"	.global lbd_cls_obj_end\n"
"lbd_cls_obj_end:\n"
"	.balign 8\n"
"	.global lbd_fp_obj\n"
"lbd_fp_obj:\n"
"	.incbin \"" LBD_FP_OBJ "\"\n"
"	.global lbd_fp_obj_end\n"
"lbd_fp_obj_end:\n"
"	.previous\n");
