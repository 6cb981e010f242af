export {
  signDeviceAnnouncement,
  verifyDeviceAnnouncement,
  type DeviceAnnouncement,
  type ParsedAnnouncement,
  type SignedAnnouncement,
} from './identity/device-announcement';
export { issueDeviceReceipt, verifyReceiptSignature, type DeviceReceipt } from './identity/receipt';
