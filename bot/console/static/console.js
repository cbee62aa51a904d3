// Optional helpers for the console; every page works without them.
"use strict";
