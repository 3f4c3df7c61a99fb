/**
 * The vits service's protocol for device models (services/vits): an IPC call with label
 * VITS_LABEL_MSI and w0 = the EventID; the badge of the caller's endpoint capability, set by
 * the manifest, names the guest (bits 7:0, its guest capability's slot in the vits service)
 * and the DeviceID (bits 47:32); the reply's w0 is 1 if the MSI became an LPI.
 */
#ifndef IPC_VITS_H
#define IPC_VITS_H

#define VITS_LABEL_MSI 0x4d5349u /* "MSI": a partition's own label (the kernel bit is clear) */

#endif /* IPC_VITS_H */
