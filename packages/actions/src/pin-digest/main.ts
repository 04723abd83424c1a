import * as core from "@actions/core";
import { hello } from "@frostyard/kit";
core.info(hello());
