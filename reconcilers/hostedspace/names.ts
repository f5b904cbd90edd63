// Names the HostedSpace reconciler writes.
import { GROUP } from "../../crds/group.ts";

export const SPACE_FINALIZER = `${GROUP}/aegir-space`;
