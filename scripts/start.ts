/** `npm start`: runs dcl on its embedded default (or the chain in DCL_RPC_URL) until Ctrl-C. */
import { main } from "../api/main";

main()
  .then(({ stop, baseUrl }) => {
    process.stdout.write(`\ndcl is running: console ${baseUrl}/ui/  API ${baseUrl}  docs ${baseUrl}/docs  metrics ${baseUrl}/metrics\nCtrl-C to stop (state stays in ./data).\n\n`);
    const shutdown = () => void stop().then(() => process.exit(0), () => process.exit(1));
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  })
  .catch((err: Error) => {
    process.stderr.write(`dcl failed to start: ${err.message}\n`);
    process.exit(1);
  });
