/** The dcl console: mounts the app. */
import { render } from "preact";
import { App } from "./app";

render(<App />, document.getElementById("app")!);
