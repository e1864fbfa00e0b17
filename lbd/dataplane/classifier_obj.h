#ifndef LBD_DATAPLANE_CLASSIFIER_OBJ_H
#define LBD_DATAPLANE_CLASSIFIER_OBJ_H

/* The classifier's BPF ELF object, [lbd_cls_obj, lbd_cls_obj_end). */
extern const unsigned char lbd_cls_obj[];
extern const unsigned char lbd_cls_obj_end[];

#endif
