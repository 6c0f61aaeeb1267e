/** What a failed report means for the user, in words, by error code (never by message text). */
import type { ErrorCode } from "../backend";

export interface Advice {
  title: string;
  body: string;
  /** Whether trying again could help. */
  retry: boolean;
}

export function adviceFor(code: ErrorCode): Advice {
  switch (code) {
    case "unreachable":
      return {
        title: "Saved — it will be sent when your support service can be reached",
        body: "We couldn't reach it just now. Check your internet connection; Call Support keeps the report and sends it on its own, even after a restart. You can also try again now.",
        retry: true,
      };
    case "server_busy":
      return {
        title: "Saved — the support service is busy",
        body: "It could not take the report just now. Call Support keeps the report and sends it on its own in a few minutes, even after a restart.",
        retry: true,
      };
    case "unauthorized":
      return {
        title: "The report was refused",
        body: "Your organisation's support service refused the report (not signed in). Contact your IT help desk.",
        retry: false,
      };
    case "rejected":
      return {
        title: "The report was not accepted",
        body: "Your organisation's support service did not accept this report. Contact your IT help desk.",
        retry: false,
      };
    case "integrity":
      return {
        title: "The report was damaged on the way",
        body: "Nothing was counted as sent. Try again.",
        retry: true,
      };
    case "config_invalid":
      return {
        title: "Call Support is not set up correctly",
        body: "Contact your IT help desk and show them the details below.",
        retry: false,
      };
    case "source_unavailable":
      return {
        title: "Some log files could not be read",
        body: "Close the calling app and try again, or contact your IT help desk.",
        retry: true,
      };
    case "report_invalid":
      return { title: "The report needs a change", body: "Go back and check what you wrote.", retry: false };
    case "cancelled":
      return { title: "Cancelled", body: "Nothing was sent.", retry: true };
    case "destination_changed":
      return {
        title: "Your support service moved",
        body: "This report was meant for another address. Check where reports go now, and send it there or remove it.",
        retry: false,
      };
    case "managed":
      return {
        title: "Your organisation manages this",
        body: "It cannot be changed on this computer. Contact your IT help desk if it needs to change.",
        retry: false,
      };
    case "io":
      return {
        title: "Something went wrong on this computer",
        body: "The report could not be prepared. Check that the disk is not full, then try again.",
        retry: true,
      };
  }
}
