"""Kiosk forms: they parse input only; every rule lives in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Company
from apps.agreements.selectors import agreements_for_company


class CardLoginForm(forms.Form):
    # What the magnetic reader types (track 2, ending with Enter) or a typed card number.
    card = forms.CharField(label=_("卡号"), max_length=120, strip=True)
    pin = forms.CharField(label=_("密码"), max_length=12, strip=False)


class UploadForm(forms.Form):
    """浏览 → 下一步. The agreement matters when the company holds several (DOMAIN.md "Agreement")."""

    agreement = forms.ModelChoiceField(label=_("代发协议"), queryset=None, empty_label=None)
    upload = forms.FileField(label=_("文件"), allow_empty_file=False)

    def __init__(self, *args, company: Company, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agreement"]
        field.queryset = agreements_for_company(company=company)
        field.label_from_instance = lambda a: f"{a.number}（{a.payer_unit_no}）"
        field.error_messages["required"] = _("请选择代发协议。")
        field.error_messages["invalid_choice"] = _("请选择本企业的代发协议。")
        upload = self.fields["upload"]
        upload.error_messages["required"] = _("请先点击“浏览”选择文件，再点击“下一步”。")
        upload.error_messages["empty"] = _("所选文件是空的。请重新选择由企业客户端生成的文件。")
        upload.widget.attrs.update({"class": "visually-hidden file-input", "data-file-input": ""})

    @property
    def single_agreement(self):
        agreements = list(self.fields["agreement"].queryset[:2])
        return agreements[0] if len(agreements) == 1 else None


class UploadDateForm(forms.Form):
    upload_date = forms.DateField(
        label=_("上传日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
