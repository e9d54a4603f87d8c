export { freePort } from "../../ops/ports";
