#ifndef LBD_DATAPLANE_BPF_OBJS_H
#define LBD_DATAPLANE_BPF_OBJS_H

/* The classifier's BPF ELF object, [lbd_cls_obj, lbd_cls_obj_end), and the
 * fast path's, [lbd_fp_obj, lbd_fp_obj_end). */
extern const unsigned char lbd_cls_obj[];
extern const unsigned char lbd_cls_obj_end[];
extern const unsigned char lbd_fp_obj[];
extern const unsigned char lbd_fp_obj_end[];

#endif
