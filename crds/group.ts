// The API group of every kind this operator defines.
export const GROUP = "hosting.openatria.com";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = "aegir";
