/** The address state (.labgen/state.json) lives in drivers/base/addresses.ts: adopt records there too. */
export { type AddressState as PushState, readState, recordAddresses } from '../base/addresses.js';
