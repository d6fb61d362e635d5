Attribute VB_Name = "RibbonPutuo"
' putuo-xl desktop ribbon (tab "fa zhi zheng fu" in customUI.xml).
'
' ONE callback for every button: the button's tag names the Python action, so a new
' button needs only a line of customUI.xml (tag = an action of putuo_xl.excel.actions).
' Keep this file ASCII: the VBA editor reads .bas files in the system ANSI code page.
' Errors are shown by Python inside Excel (alert + log sheet), not through stderr.
Option Explicit

Public Sub RunTagged(control As IRibbonControl)
    Dim tag As String
    tag = control.Tag
    If Not IsActionTag(tag) Then
        MsgBox "putuo-xl: this ribbon button has an invalid tag: '" & tag & "'", vbExclamation, "putuo-xl"
        Exit Sub
    End If
    If ActiveWorkbook Is Nothing Then
        MsgBox "putuo-xl: please open the workbook first.", vbExclamation, "putuo-xl"
        Exit Sub
    End If
    RunPython "import putuo_xl.excel.desktop as d; d.run('" & tag & "')"
End Sub

' Only lower-case ASCII letters, digits and underscores reach the Python command line.
Private Function IsActionTag(ByVal tag As String) As Boolean
    Dim i As Long, c As String
    IsActionTag = Len(tag) > 0 And Len(tag) <= 40
    For i = 1 To Len(tag)
        c = Mid$(tag, i, 1)
        If Not (c Like "[a-z0-9_]") Then
            IsActionTag = False
            Exit Function
        End If
    Next i
End Function
