from django.urls import path

from apps.billing.api import views

urlpatterns = [
    path("billing/invoices", views.InvoiceListApi.as_view(), name="billing-invoices"),
    path("billing/invoices/<uuid:invoice_id>", views.InvoiceDetailApi.as_view(), name="billing-invoice"),
    path(
        "billing/invoices/<uuid:session_id>/finalize",
        views.InvoiceFinalizeApi.as_view(),
        name="billing-invoice-finalize",
    ),
    path("billing/invoices/<uuid:invoice_id>/lines", views.InvoiceLineAddApi.as_view(), name="billing-lines"),
    path(
        "billing/invoices/<uuid:invoice_id>/lines/<uuid:line_id>",
        views.InvoiceLineRemoveApi.as_view(),
        name="billing-line",
    ),
    path("billing/invoices/<uuid:invoice_id>/checkout", views.InvoiceCheckoutApi.as_view(), name="billing-checkout"),
    path("billing/invoices/<uuid:invoice_id>/status", views.InvoiceStatusApi.as_view(), name="billing-status"),
    path("billing/payments/<uuid:payment_id>", views.PaymentDetailApi.as_view(), name="billing-payment"),
    path("billing/holds", views.HoldListApi.as_view(), name="billing-holds"),
    path("billing/holds/<uuid:hold_id>", views.HoldDetailApi.as_view(), name="billing-hold"),
    path("billing/payment-methods", views.PaymentMethodListCreateApi.as_view(), name="billing-payment-methods"),
    path(
        "billing/payment-methods/<uuid:payment_method_id>",
        views.PaymentMethodDeleteApi.as_view(),
        name="billing-payment-method",
    ),
]
