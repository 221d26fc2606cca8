from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors, services
from apps.billing.api import serializers as s
from evcharge.api.authentication import JWT_OR_API_KEY
from evcharge.api.idempotency import idempotent
from evcharge.api.pagination import LimitOffsetPagination
from evcharge.api.permissions import IsAnyUser, IsDriver, IsOperatorOrAdmin, actor

TAGS = ["billing"]
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Required. A retry with the same key and body returns the first response and never charges twice.",
)


def _paginated(view: APIView, request, queryset, serializer_class) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _invoice_body(invoice_id, request) -> dict:
    return s.InvoiceOut(selectors.invoice_get(invoice_id=invoice_id, by=actor(request))).data


class InvoiceListApi(APIView):
    """A driver's order history (newest first); an operator sees their stations' invoices; an admin all."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        parameters=[s.InvoiceFilter, OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=s.InvoiceOut(many=True),
        tags=TAGS,
    )
    def get(self, request):
        filters = s.InvoiceFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        invoices = selectors.invoice_list(
            by=actor(request),
            status=filters.validated_data.get("status"),
            from_=filters.validated_data.get("from"),
            to=filters.validated_data.get("to"),
        )
        return _paginated(self, request, invoices, s.InvoiceOut)


class InvoiceDetailApi(APIView):
    """The invoice with its lines, discounts and payments (owner, its operator, admin)."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.InvoiceOut, tags=TAGS)
    def get(self, request, invoice_id):
        return Response(_invoice_body(invoice_id, request))


class InvoiceFinalizeApi(APIView):
    """Operator, admin or an API key: finalize the session's invoice if the completed event has not yet.
    Idempotent; 409 while billing has not received the session's completion."""

    permission_classes = [IsOperatorOrAdmin]
    authentication_classes = JWT_OR_API_KEY

    @extend_schema(
        request=None,
        responses={200: s.InvoiceOut, 409: OpenApiResponse(description="Billing has not heard the session end yet.")},
        tags=TAGS,
    )
    def post(self, request, session_id):
        invoice = services.invoice_finalize(session_id=session_id, by=actor(request))
        return Response(_invoice_body(invoice.id, request))


class InvoiceLineAddApi(APIView):
    """Operator or admin: add an item (adjustment, reservation fee, product) to a draft or open invoice."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        request=s.LineIn,
        responses={
            201: s.InvoiceOut,
            409: OpenApiResponse(description="The invoice is no longer draft or open."),
            422: OpenApiResponse(description="The items would add up below zero or above the maximum."),
        },
        tags=TAGS,
    )
    def post(self, request, invoice_id):
        data = s.LineIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.invoice_line_add(invoice_id=invoice_id, by=actor(request), **data.validated_data)
        return Response(_invoice_body(invoice_id, request), status=status.HTTP_201_CREATED)


class InvoiceLineRemoveApi(APIView):
    """Operator or admin: remove an item from a draft or open invoice (409 once paid)."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        responses={
            200: s.InvoiceOut,
            409: OpenApiResponse(description="Paid, or a discount (released, not removed)."),
            422: OpenApiResponse(description="The remaining items would add up below zero."),
        },
        tags=TAGS,
    )
    def delete(self, request, invoice_id, line_id):
        services.invoice_line_remove(invoice_id=invoice_id, line_id=line_id, by=actor(request))
        return Response(_invoice_body(invoice_id, request))


class InvoiceCheckoutApi(APIView):
    """The invoice's owner pays it: the promotion code given (else the one already applied to the invoice,
    re-checked) is applied through pricing, which computes the discount from the invoice's real total; the
    total is charged through the payment gateway. 201 with the payment's outcome (`succeeded` or `failed`);
    a failed payment leaves the invoice open (the promotion's use is given back). 202 when the gateway's
    answer is unknown (a timeout): the payment stays `pending`, the invoice unpaid, and reconciliation settles
    it through the gateway's status call; a retry of the same request never charges twice."""

    permission_classes = [IsDriver]

    @extend_schema(
        request=s.CheckoutIn,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.CheckoutOut,
            202: OpenApiResponse(s.CheckoutOut, description="the gateway's answer is unknown: payment pending"),
            404: OpenApiResponse(description="no such invoice of yours"),
            409: OpenApiResponse(description="already paid, not finalized, or a payment in progress"),
            422: OpenApiResponse(description="the promotion code was refused, or no longer applies"),
        },
        tags=TAGS,
    )
    def post(self, request, invoice_id):
        def run() -> Response:
            data = s.CheckoutIn(data=request.data)
            data.is_valid(raise_exception=True)
            invoice, payment = services.invoice_checkout(
                invoice_id=invoice_id,
                payment_method_id=data.validated_data["payment_method_id"],
                promotion_code=data.validated_data.get("promotion_code") or None,
                by=actor(request),
                request_key=request.headers.get("Idempotency-Key"),
            )
            body = {
                "invoice": _invoice_body(invoice.id, request),
                "payment": {
                    "id": str(payment.id),
                    "status": payment.status,
                    "amount": payment.amount,
                    "currency": payment.currency,
                    "failure_reason": payment.failure_reason or None,
                },
            }
            pending = payment.status == "pending"
            return Response(body, status=status.HTTP_202_ACCEPTED if pending else status.HTTP_201_CREATED)

        return idempotent(request, scope="billing.checkout", run=run, required=True)


class InvoiceStatusApi(APIView):
    """Operator or admin: void an unpaid invoice, or refund a paid one through the gateway."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        request=s.InvoiceStatusIn,
        responses={
            200: s.InvoiceOut,
            409: OpenApiResponse(description="Not possible in the invoice's state."),
            502: OpenApiResponse(description="The gateway did not answer the refund: retry (it never refunds twice)."),
        },
        tags=TAGS,
    )
    def post(self, request, invoice_id):
        data = s.InvoiceStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.invoice_set_status(invoice_id=invoice_id, by=actor(request), **data.validated_data)
        return Response(_invoice_body(invoice_id, request))


class PaymentDetailApi(APIView):
    """A payment (its payer, the station's operator, admin)."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.PaymentOut, tags=TAGS)
    def get(self, request, payment_id):
        return Response(s.PaymentOut(selectors.payment_get(payment_id=payment_id, by=actor(request))).data)


class PaymentMethodListCreateApi(APIView):
    """A driver's tokenised cards."""

    permission_classes = [IsDriver]

    @extend_schema(responses=s.PaymentMethodOut(many=True), tags=TAGS)
    def get(self, request):
        return _paginated(self, request, selectors.payment_methods_of(actor(request).user_id), s.PaymentMethodOut)

    @extend_schema(request=s.PaymentMethodIn, responses={201: s.PaymentMethodOut}, tags=TAGS)
    def post(self, request):
        data = s.PaymentMethodIn(data=request.data)
        data.is_valid(raise_exception=True)
        method = services.payment_method_add(by=actor(request), **data.validated_data)
        return Response(s.PaymentMethodOut(method).data, status=status.HTTP_201_CREATED)


class PaymentMethodDeleteApi(APIView):
    """The owner removes a card."""

    permission_classes = [IsDriver]

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request, payment_method_id):
        services.payment_method_remove(payment_method_id=payment_method_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class HoldListApi(APIView):
    """Card pre-authorisations of ad-hoc sessions, newest first: a driver's own, an operator's stations' (known
    once the session started), all for an admin. `?status=` filters."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        parameters=[s.HoldFilter, OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=s.HoldOut(many=True),
        tags=TAGS,
    )
    def get(self, request):
        filters = s.HoldFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        holds = selectors.hold_list(by=actor(request), status=filters.validated_data.get("status"))
        return _paginated(self, request, holds, s.HoldOut)


class HoldDetailApi(APIView):
    """A card pre-authorisation: how much is held, captured and released (its driver, the operator, admin)."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.HoldOut, tags=TAGS)
    def get(self, request, hold_id):
        return Response(s.HoldOut(selectors.hold_get(hold_id=hold_id, by=actor(request))).data)
