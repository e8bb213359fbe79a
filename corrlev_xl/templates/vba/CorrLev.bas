Attribute VB_Name = "CorrLev"
Option Explicit

' The one callback of every button on the CorrLev ribbon tab (customUI onAction).
' It passes the button id to Python, where corrlev_xl.macros.on_ribbon runs the
' button's handler. The call is late bound through the xlwings add-in, so this
' project has no reference to xlwings and still compiles when xlwings is missing.
Public Sub CorrLevRibbon(control As IRibbonControl)
    On Error GoTo NoXlwings
    Application.Run "'xlwings.xlam'!RunPython", "import corrlev_xl.macros as m; m.on_ribbon('" & control.Id & "')"
    Exit Sub
NoXlwings:
    MsgBox "CorrLev could not reach Python through the xlwings add-in." & vbCrLf & vbCrLf & _
        "Install it from a command prompt:" & vbCrLf & _
        "    pip install corrlev-xl" & vbCrLf & _
        "    xlwings addin install" & vbCrLf & _
        "then restart Excel." & vbCrLf & vbCrLf & _
        "(" & Err.Description & ")", vbExclamation, "CorrLev"
End Sub
