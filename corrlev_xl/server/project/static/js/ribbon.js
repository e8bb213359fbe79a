// corrlev-xl ribbon (templates/manifest.xml): each button runs the custom script of that name.
function corrlevButton(scriptName) {
  return async function (event) {
    const authResult =
      typeof globalThis.getAuth === "function" ? await globalThis.getAuth() : { token: "", provider: "" };
    try {
      await xlwings.runPython({
        auth: authResult.token,
        scriptName: scriptName,
        headers: { "Auth-Provider": authResult.provider },
      });
    } finally {
      event.completed();
    }
  };
}
Office.actions.associate("corrlev-rebalance", corrlevButton("rebalance"));
Office.actions.associate("corrlev-refresh-correlations", corrlevButton("refresh_correlations"));
Office.actions.associate("corrlev-risk-report", corrlevButton("risk_report"));
Office.actions.associate("corrlev-connect-workbook", corrlevButton("connect_workbook"));
