/*
** mb_fault.h -- the calls the LD_PRELOAD fault library (mb_faultpreload.c)
** can make fail, as the bits of the `calls` mask of mb_fault_arm(), shared
** by the library and its driver (test_faults_preload.c). The control
** functions themselves are described in mb_faultpreload.c.
*/
#ifndef MB_FAULT_H
#define MB_FAULT_H

#define MBF_FSYNC      0x001u
#define MBF_FDATASYNC  0x002u
#define MBF_FTRUNCATE  0x004u   /* ftruncate, ftruncate64 */
#define MBF_PWRITE     0x008u   /* pwrite, pwrite64 */
#define MBF_WRITE      0x010u
#define MBF_MSYNC      0x020u
#define MBF_MMAP       0x040u   /* mmap, mmap64 */
#define MBF_FALLOCATE  0x080u   /* fallocate(64), posix_fallocate(64) */

#define MBF_SYNCS      (MBF_FSYNC|MBF_FDATASYNC)
#define MBF_WRITES     (MBF_PWRITE|MBF_WRITE|MBF_FALLOCATE)

#endif /* MB_FAULT_H */
